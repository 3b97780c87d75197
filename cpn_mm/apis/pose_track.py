# Copyright (c) cpn_mm authors. All rights reserved.
"""Track ids of persons across the frames of a video: MMPose's greedy matching of every person
to the persons of the last frame that had persons (``mmpose.apis._track_by_iou`` by box IoU,
or ``_track_by_oks`` by keypoint similarity), as MMPose's ``Pose3DInferencer`` and
``demo/body3d_pose_lifter_demo.py`` assign them.

One difference from MMPose: a frame without persons does not end the tracks (the next frame
is matched to the last frame with persons), so a person missed in one frame keeps its id.
"""
from typing import List, Optional, Sequence

import numpy as np


class PoseTracker:
    """Track ids 0, 1, 2, ... in order of first appearance.

    Args:
        use_oks (bool): Match by object keypoint similarity (``_track_by_oks``, with
            ``sigmas``) instead of box IoU (``_track_by_iou``)
        thr (float): Minimum IoU / OKS of a match; a person matched to nobody gets a new id
        sigmas (sequence of float, optional): Per-keypoint OKS sigmas (the 2D model's
            ``dataset_meta['sigmas']``); ``None``: MMPose's COCO sigmas
    """

    def __init__(self, use_oks: bool = False, thr: float = 0.3,
                 sigmas: Optional[Sequence[float]] = None) -> None:
        self.use_oks = use_oks
        self.thr = thr
        self.sigmas = None if sigmas is None else np.asarray(sigmas)
        self.last: list = []
        self.next_id = 0

    def update(self, samples: List) -> List[int]:
        """Set ``track_id`` on the one-person data samples of one frame.

        Args:
            samples (list[PoseDataSample]): One per person, ``pred_instances`` in numpy with
                ``bboxes`` (1, 4) xyxy, ``keypoints`` (1, K, 2) and ``keypoint_scores`` (1, K)
                (what ``mmpose.apis.inference_topdown`` returns, moved to numpy)

        Returns:
            list[int]: The track ids, in the order of ``samples``.
        """
        from mmpose.apis import _track_by_iou, _track_by_oks
        if not samples:  # a frame without persons: the tracks go on
            return []
        last = list(self.last)  # the matchers remove matched persons from this list
        ids = []
        for sample in samples:
            boxes = sample.pred_instances.bboxes
            sample.pred_instances.set_field(
                (boxes[..., 2:] - boxes[..., :2]).prod(-1), 'areas')
            if self.use_oks:
                track_id, last, _ = _track_by_oks(sample, last, self.thr, self.sigmas)
            else:
                track_id, last, _ = _track_by_iou(sample, last, self.thr)
            if track_id == -1:
                track_id = self.next_id
                self.next_id += 1
            sample.set_field(int(track_id), 'track_id')
            ids.append(int(track_id))
        self.last = list(samples)
        return ids
