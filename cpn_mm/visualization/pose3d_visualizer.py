# Copyright (c) OpenMMLab and cpn_mm authors. All rights reserved.
"""MMPose's ``Pose3dLocalVisualizer`` on matplotlib >= 3.10.

MMPose 1.3.2 reads the drawn 3D figure with ``FigureCanvasAgg.tostring_rgb``, which matplotlib
3.10 removed (both of cpn_mm's stacks have matplotlib 3.11): every 3D drawing raises
``AttributeError``. :class:`Pose3dAggVisualizer` is MMPose's visualizer with its
``_draw_3d_data_samples`` copied from MMPose 1.3.2 (Apache-2.0) and its last lines changed:
the figure's RGBA buffer (``buffer_rgba``, matplotlib >= 3.1) read as RGB in the figure's own
shape (MMPose's reshape multiplies the width by the number of persons twice, so a frame with
more than one person fails there on any matplotlib). Everything else
(the 2D panel, ``add_datasample``, colours, the skeleton) is MMPose's. Use it by name,
``visualizer = dict(type='Pose3dAggVisualizer', ...)``, where a lifter config names
``Pose3dLocalVisualizer``.
"""
from typing import Optional

import numpy as np
from matplotlib import pyplot as plt
from mmengine.structures import InstanceData
from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import Pose3dLocalVisualizer


@VISUALIZERS.register_module()
class Pose3dAggVisualizer(Pose3dLocalVisualizer):
    """MMPose's :class:`~mmpose.visualization.Pose3dLocalVisualizer`, whose 3D panel works on
    matplotlib >= 3.10 (module docstring); same arguments."""

    def _draw_3d_data_samples(self,
                              image: np.ndarray,
                              pose_samples: PoseDataSample,
                              draw_gt: bool = True,
                              kpt_thr: float = 0.3,
                              num_instances=-1,
                              axis_azimuth: float = 70,
                              axis_limit: float = 1.7,
                              axis_dist: float = 10.0,
                              axis_elev: float = 15.0,
                              show_kpt_idx: bool = False,
                              scores_2d: Optional[np.ndarray] = None):
        """Draw keypoints and skeletons (optional) of GT or prediction.

        Args:
            image (np.ndarray): The image to draw.
            instances (:obj:`InstanceData`): Data structure for
                instance-level annotations or predictions.
            draw_gt (bool): Whether to draw GT PoseDataSample. Default to
                ``True``
            kpt_thr (float, optional): Minimum threshold of keypoints
                to be shown. Default: 0.3.
            num_instances (int): Number of instances to be shown in 3D. If
                smaller than 0, all the instances in the pose_result will be
                shown. Otherwise, pad or truncate the pose_result to a length
                of num_instances.
            axis_azimuth (float): axis azimuth angle for 3D visualizations.
            axis_dist (float): axis distance for 3D visualizations.
            axis_elev (float): axis elevation view angle for 3D visualizations.
            axis_limit (float): The axis limit to visualize 3d pose. The xyz
                range will be set as:
                - x: [x_c - axis_limit/2, x_c + axis_limit/2]
                - y: [y_c - axis_limit/2, y_c + axis_limit/2]
                - z: [0, axis_limit]
                Where x_c, y_c is the mean value of x and y coordinates
            show_kpt_idx (bool): Whether to show the index of keypoints.
                Defaults to ``False``
            scores_2d (np.ndarray, optional): Keypoint scores of 2d estimation
                that will be used to filter 3d instances.

        Returns:
            Tuple(np.ndarray): the drawn image which channel is RGB.
        """
        vis_width = max(image.shape)
        vis_height = vis_width

        if 'pred_instances' in pose_samples:
            pred_instances = pose_samples.pred_instances
        else:
            pred_instances = InstanceData()
        if num_instances < 0:
            if 'keypoints' in pred_instances:
                num_instances = len(pred_instances)
            else:
                num_instances = 0
        else:
            if len(pred_instances) > num_instances:
                pred_instances_ = InstanceData()
                for k in pred_instances.keys():
                    new_val = pred_instances[k][:num_instances]
                    pred_instances_.set_field(new_val, k)
                pred_instances = pred_instances_
            elif num_instances < len(pred_instances):
                num_instances = len(pred_instances)

        num_fig = num_instances
        if draw_gt:
            vis_width *= 2
            num_fig *= 2

        plt.ioff()
        fig = plt.figure(
            figsize=(vis_width * num_instances * 0.01, vis_height * 0.01))

        def _draw_3d_instances_kpts(keypoints,
                                    scores,
                                    scores_2d,
                                    keypoints_visible,
                                    fig_idx,
                                    show_kpt_idx,
                                    title=None):

            for idx, (kpts, score, score_2d) in enumerate(
                    zip(keypoints, scores, scores_2d)):

                valid = np.logical_and(score >= kpt_thr, score_2d >= kpt_thr,
                                       np.any(~np.isnan(kpts), axis=-1))

                kpts_valid = kpts[valid]
                ax = fig.add_subplot(
                    1, num_fig, fig_idx * (idx + 1), projection='3d')
                ax.view_init(elev=axis_elev, azim=axis_azimuth)
                ax.set_aspect('auto')
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_zticks([])
                ax.set_xticklabels([])
                ax.set_yticklabels([])
                ax.set_zticklabels([])
                if title:
                    ax.set_title(f'{title} ({idx})')
                ax.dist = axis_dist

                x_c = np.mean(kpts_valid[:, 0]) if valid.any() else 0
                y_c = np.mean(kpts_valid[:, 1]) if valid.any() else 0
                z_c = np.mean(kpts_valid[:, 2]) if valid.any() else 0

                ax.set_xlim3d([x_c - axis_limit / 2, x_c + axis_limit / 2])
                ax.set_ylim3d([y_c - axis_limit / 2, y_c + axis_limit / 2])
                ax.set_zlim3d(
                    [min(0, z_c - axis_limit / 2), z_c + axis_limit / 2])

                if self.kpt_color is None or isinstance(self.kpt_color, str):
                    kpt_color = [self.kpt_color] * len(kpts)
                elif len(self.kpt_color) == len(kpts):
                    kpt_color = self.kpt_color
                else:
                    raise ValueError(
                        f'the length of kpt_color '
                        f'({len(self.kpt_color)}) does not matches '
                        f'that of keypoints ({len(kpts)})')

                x_3d, y_3d, z_3d = np.split(kpts_valid[:, :3], [1, 2], axis=1)

                kpt_color = kpt_color[valid] / 255.

                ax.scatter(x_3d, y_3d, z_3d, marker='o', c=kpt_color)

                if show_kpt_idx:
                    for kpt_idx in range(len(x_3d)):
                        ax.text(x_3d[kpt_idx][0], y_3d[kpt_idx][0],
                                z_3d[kpt_idx][0], str(kpt_idx))

                if self.skeleton is not None and self.link_color is not None:
                    if self.link_color is None or isinstance(
                            self.link_color, str):
                        link_color = [self.link_color] * len(self.skeleton)
                    elif len(self.link_color) == len(self.skeleton):
                        link_color = self.link_color
                    else:
                        raise ValueError(
                            f'the length of link_color '
                            f'({len(self.link_color)}) does not matches '
                            f'that of skeleton ({len(self.skeleton)})')

                    for sk_id, sk in enumerate(self.skeleton):
                        sk_indices = [_i for _i in sk]
                        xs_3d = kpts[sk_indices, 0]
                        ys_3d = kpts[sk_indices, 1]
                        zs_3d = kpts[sk_indices, 2]
                        kpt_score = score[sk_indices]
                        kpt_score_2d = score_2d[sk_indices]
                        if kpt_score.min() > kpt_thr and kpt_score_2d.min(
                        ) > kpt_thr:
                            # matplotlib uses RGB color in [0, 1] value range
                            _color = link_color[sk_id] / 255.
                            ax.plot(
                                xs_3d, ys_3d, zs_3d, color=_color, zdir='z')

        if 'keypoints' in pred_instances:
            keypoints = pred_instances.get('keypoints',
                                           pred_instances.keypoints)

            if 'keypoint_scores' in pred_instances:
                scores = pred_instances.keypoint_scores
            else:
                scores = np.ones(keypoints.shape[:-1])

            if scores_2d is None:
                scores_2d = np.ones(keypoints.shape[:-1])

            if 'keypoints_visible' in pred_instances:
                keypoints_visible = pred_instances.keypoints_visible
            else:
                keypoints_visible = np.ones(keypoints.shape[:-1])

            _draw_3d_instances_kpts(keypoints, scores, scores_2d,
                                    keypoints_visible, 1, show_kpt_idx,
                                    'Prediction')

        if draw_gt and 'gt_instances' in pose_samples:
            gt_instances = pose_samples.gt_instances
            if 'lifting_target' in gt_instances:
                keypoints = gt_instances.get('lifting_target',
                                             gt_instances.lifting_target)
                scores = np.ones(keypoints.shape[:-1])

                if 'lifting_target_visible' in gt_instances:
                    keypoints_visible = gt_instances.lifting_target_visible
                else:
                    keypoints_visible = np.ones(keypoints.shape[:-1])
            elif 'keypoints_gt' in gt_instances:
                keypoints = gt_instances.get('keypoints_gt',
                                             gt_instances.keypoints_gt)
                scores = np.ones(keypoints.shape[:-1])

                if 'keypoints_visible' in gt_instances:
                    keypoints_visible = gt_instances.keypoints_visible
                else:
                    keypoints_visible = np.ones(keypoints.shape[:-1])
            else:
                raise ValueError('to visualize ground truth results, '
                                 'data sample must contain '
                                 '"lifting_target" or "keypoints_gt"')

            if scores_2d is None:
                scores_2d = np.ones(keypoints.shape[:-1])

            _draw_3d_instances_kpts(keypoints, scores, scores_2d,
                                    keypoints_visible, 2, show_kpt_idx,
                                    'Ground Truth')

        # convert figure to numpy array
        fig.tight_layout()
        fig.canvas.draw()

        # changed: the RGBA buffer read as RGB (matplotlib 3.10 removed tostring_rgb), in the
        # figure's own shape (MMPose multiplies the figure's width, already num_instances
        # panels wide, by num_instances again: more than one person fails to reshape)
        pred_img_data = np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])

        if not pred_img_data.any():
            pred_img_data = np.full((vis_height, vis_width, 3), 255)

        plt.close(fig)

        return pred_img_data
