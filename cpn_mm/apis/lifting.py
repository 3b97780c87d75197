# Copyright (c) cpn_mm authors. All rights reserved.
"""2D-to-3D lifting of CPN's keypoints (``tools/demo_3d.py``): person boxes -> CPN -> track ids
-> Human3.6M keypoints -> an MMPose pose lifter (e.g. VideoPose3D's ``VideoPoseLift``, 1, 27,
81 or 243 frames, causal or not) -> 3D keypoints per person and frame, saved and drawn.

Stages, each MMPose's where MMPose has it:

- boxes and 2D keypoints: :class:`cpn_mm.apis.demo.TopdownDemo` (an MMDetection detector, a
  COCO-style box JSON or the whole frame; any of cpn_mm's runtimes: PyTorch, ONNX Runtime,
  OpenVINO f32/bf16/int8, ``torch.compile``) through ``mmpose.apis.inference_topdown``;
- track ids: :class:`cpn_mm.apis.pose_track.PoseTracker` (MMPose's ``_track_by_iou`` /
  ``_track_by_oks``);
- keypoint layout: :func:`keypoint_conversion` decides from the two models' ``dataset_meta``:
  none when the 2D model's keypoints are the lifter's (e.g. a Human3.6M 2D model), else
  MMPose's ``convert_keypoint_definition`` (COCO, PoseTrack18, AIC, CrowdPose -> Human3.6M);
  any other pair is an :class:`InputError` naming both layouts;
- lifting: for every frame, MMPose's ``extract_pose_sequence`` (the lifter's window of
  ``seq_len`` frames, ``seq_step`` apart, the frame in the middle, or last if ``causal``) and
  ``inference_pose_lifter_model`` (``norm_pose_2d``: boxes moved and scaled to the lifter
  dataset's mean box, as MMPose's demo and inferencer do by default; computed in float32 by
  :func:`normalize_window`);
- drawing: MMPose's ``Pose3dLocalVisualizer`` (:class:`cpn_mm.visualization.Pose3dAggVisualizer`,
  the same on matplotlib >= 3.10): the frame with the 2D keypoints next to the 3D poses.

Padding: a window reaching past the first or last frame is filled by repeating that frame
(edge replication, MMPose's ``extract_pose_sequence``), so a video shorter than the lifter's
receptive field ``(seq_len - 1) * seq_step + 1`` is lifted with a warning. A person missing
from some frames of the window has a frame of the same track repeated in their place: the one
next to it towards the lifted frame (what MMPose's ``collate_pose_sequence`` means to do;
:func:`lift` gathers the window itself because MMPose 1.3.2 fills the frames after a gap with
zeros).

Input: a video (frames in order), a folder of images (the frames of one sequence, sorted by
file name: tracking matches persons across them, so for unrelated photos use a 1-frame lifter
or one photo at a time) or an image (a one-frame sequence).

Saved predictions (``<out_dir>/predictions_3d.json`` and/or ``.npz``), one row per person and
frame, M rows, K = 17 joints in the lifter's order (Human3.6M: ``joint_names``, root = pelvis,
index 0):

- ``frame_index`` (M,) int32: the 0-based frame (video frame, or image in sorted order);
  ``track_id`` (M,) int32: the person's track, 0, 1, ... in order of first appearance;
- ``keypoints_3d`` (M, K, 3) float32: the lifter's output as it decodes it (``x``, ``y``,
  ``z`` in the camera's axes, ``x`` right, ``y`` down, ``z`` forward), relative to the root
  (a trained VideoPose3D lifter learnt pelvis-centred targets: its pelvis comes out near the
  origin; with random weights anywhere), in the units of the lifter's training targets: metres
  for MMPose's Human3.6M lifters. ``MMPoseInferencer`` returns ``(-x, z, -y)`` with the
  lowest joint at height 0 instead: the drawing space, see :func:`to_drawing_space`;
- ``keypoint_scores_3d`` (M, K): the lifter's scores (1 for ``VideoPoseLift``);
- ``keypoints_2d`` (M, K, 2): the lifter's 2D input, in the lifter's joint order, input-image
  pixels ``[x, y]``; ``keypoint_scores_2d`` (M, K): CPN's scores (converted joints: the mean
  of the joints they are made of); ``bboxes`` (M, 5): the person box ``[x1, y1, x2, y2,
  score]``, input-image pixels;
- per frame (T frames): ``frame_names`` (T,) the image path or ``<video>#<index>``,
  ``frame_sizes`` (T, 2) ``[w, h]``, ``frames_without_person`` (F,) int32: the frames with no
  person (no rows; drawn without a pose);
- ``joint_names`` (K,), ``seq_len``, ``seq_step``, ``causal``, ``padded_frames`` (P,) int32:
  the frames whose window was padded.

The JSON holds the same per frame: ``{"frames": [{"frame_index", "frame_name",
"frame_size", "persons": [{"track_id", "keypoints_3d", "keypoint_scores_3d",
"keypoints_2d", "keypoint_scores_2d", "bbox"}]}], "frames_without_person", "joint_names",
"units", "seq_len", "seq_step", "causal", "padded_frames", "lifter_config"}``.
"""
import copy
import json
import os
import os.path as osp
import time
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from cpn_mm.utils.errors import InputError, check_file
from .demo import TopdownDemo, is_video, iter_video, list_images, read_image
from .inference import image_id_of
from .pose_track import PoseTracker

# what MMPose's convert_keypoint_definition turns into Human3.6M's 17 joints, with the number
# of keypoints of each source layout
H36M_SOURCES = {'coco': 17, 'posetrack18': 17, 'aic': 14, 'crowdpose': 14}
H36M_LIFTER_DATASETS = ('h36m', )
SAVE_FORMATS = ('json', 'npz')


@dataclass
class FramePoses:
    """The 2D poses of one frame.

    Attributes:
        index (int): 0-based frame index
        name (str): The image path, or ``<video>#<index>``
        size (tuple): ``(w, h)`` in pixels
        samples (list[PoseDataSample]): One per person, as ``inference_topdown`` returns them
            (the 2D model's keypoint layout, input-image pixels), with ``track_id``
    """
    index: int
    name: str
    size: Tuple[int, int]
    samples: list = field(default_factory=list)


# --------------------------------------------------------------------------- inputs
def iter_frames(path: str) -> Tuple[Iterator[Tuple[np.ndarray, str, int]], Optional[float]]:
    """The frames of a video, a folder of images (sorted by name) or one image.

    Returns:
        tuple: an iterator of ``(BGR image (H, W, 3) uint8, name, image id)`` (the name: the
        image path, or ``<video>#<index>``; the id as ``tools/demo.py`` matches box JSON
        entries: the COCO number of an image's file name or its index, the frame index of a
        video), and the video's frames per second (``None`` for images).
    """
    if not osp.exists(path):
        raise InputError(f'`input` {path!r} does not exist')
    if osp.isfile(path) and is_video(path):
        frames, fps, _ = iter_video(path)
        return ((f, f'{path}#{i}', i) for i, f in enumerate(frames)), fps
    paths = list_images(path) if osp.isdir(path) else [path]
    return ((read_image(p), p, image_id_of(p, i)) for i, p in enumerate(paths)), None


class Pose2DStage:
    """Boxes, CPN keypoints and track ids of one frame after the other.

    Args:
        config, checkpoint (str): The 2D pose model (``checkpoint`` ``None``: random weights)
        det_config, det_checkpoint, bboxes, det_cat_id, bbox_thr, nms_thr: The boxes, as
            :func:`cpn_mm.apis.run_demo`
        device, dtype, backend, precision, onnx, compile: The runtime, as
            :func:`cpn_mm.apis.run_demo`; ``out_dir``: where an ONNX export goes
        use_oks_tracking (bool), tracking_thr (float): :class:`PoseTracker`
    """

    def __init__(self, config: str, checkpoint: Optional[str], det_config: Optional[str] = None,
                 det_checkpoint: Optional[str] = None, bboxes: Optional[str] = None,
                 det_cat_id: int = 0, bbox_thr: float = 0.3, nms_thr: float = 0.3,
                 device: str = 'cpu', dtype: Optional[str] = None, backend: str = 'auto',
                 precision: Optional[str] = None, onnx: Optional[str] = None,
                 compile: bool = False, out_dir: str = 'work_dirs/demo_3d',
                 use_oks_tracking: bool = False, tracking_thr: float = 0.3) -> None:
        args = SimpleNamespace(**{k: v for k, v in locals().items() if k != 'self'})
        args.radius, args.thickness = 3, 2  # of TopdownDemo's 2D visualizer, not used here
        self.demo = TopdownDemo(args)
        self.model = self.demo.model
        self.runtime_name = self.demo.runtime_name
        self.timing = self.demo.timing
        self.tracker = PoseTracker(use_oks_tracking, tracking_thr,
                                   self.model.dataset_meta.get('sigmas'))

    def __call__(self, img: np.ndarray, name: str, image_id: int, index: int) -> FramePoses:
        """The poses of one BGR frame (H, W, 3), track ids set."""
        from mmpose.apis import inference_topdown
        self.timing['frames'] += 1
        h, w = img.shape[:2]
        boxes = self.demo.boxes(img, name, image_id)
        if len(boxes) == 0:
            return FramePoses(index, name, (w, h))
        t0 = time.perf_counter()
        samples = inference_topdown(self.demo.runtime, img, boxes[:, :4])
        self.timing['pose_s'] += time.perf_counter() - t0
        self.timing['persons'] += len(boxes)
        for sample, box in zip(samples, boxes):
            sample.pred_instances.bbox_scores = box[None, 4]
        self.tracker.update(samples)
        return FramePoses(index, name, (w, h), list(samples))


# --------------------------------------------------------------------------- lifter
def init_lifter(config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                name: str = 'lifter_config'):
    """An MMPose pose lifter (``PoseLifter``) from a config and an optional checkpoint.

    Args:
        config (str): A lifter config, e.g. MMPose's
            ``body_3d_keypoint/video_pose_lift/h36m/video-pose-lift_tcn-243frm-supv-cpn-ft_8xb128-200e_h36m.py``
        checkpoint (str, optional): Its checkpoint; ``None``: random weights, with a warning
        device (str): ``'cpu'``, ``'cuda:0'``...
        name (str): The parameter the errors name (``checkpoint``'s: ``name`` with
            ``_config`` replaced by ``_checkpoint``)

    Raises:
        InputError: if a file is missing or the config is not a ``PoseLifter``.
    """
    from mmengine.config import Config
    from mmpose.apis import init_model as mmpose_init_model
    check_file(config, name)
    check_file(checkpoint, name.replace('_config', '_checkpoint'))
    cfg = Config.fromfile(config)
    if cfg.get('model', {}).get('type') != 'PoseLifter':
        raise InputError(f'`{name}` {config!r} is not a pose lifter config: its model type is '
                         f'{cfg.get("model", {}).get("type")!r}, expected \'PoseLifter\'')
    if checkpoint is None:
        warnings.warn(f'no checkpoint for the lifter {osp.basename(config)}: random weights, '
                      'the 3D poses are meaningless (smoke tests only)')
    if 'train_dataloader' not in cfg and 'test_dataloader' in cfg:
        # MMPose reads dataset_meta from the checkpoint, else from the training dataset, else
        # takes COCO's: a lifter config without a training loader (the semi-supervised
        # VideoPose3D configs) would get COCO's 17 keypoints instead of its test dataset's
        cfg.train_dataloader = dict(dataset=cfg.test_dataloader.dataset)
    return mmpose_init_model(cfg, checkpoint, device=device)


def lifter_window(lifter) -> Dict[str, object]:
    """``seq_len`` (default 1), ``seq_step`` (1) and ``causal`` (``False``) of the lifter's
    test dataset, as MMPose's ``Pose3DInferencer`` reads them, and the ``receptive_field``
    ``(seq_len - 1) * seq_step + 1`` in frames."""
    dataset = lifter.cfg.test_dataloader.dataset
    seq_len, step = int(dataset.get('seq_len', 1)), int(dataset.get('seq_step', 1))
    return dict(seq_len=seq_len, seq_step=step, causal=bool(dataset.get('causal', False)),
                receptive_field=(seq_len - 1) * step + 1)


def keypoint_conversion(pose2d_meta: dict, lifter_meta: dict,
                        names: Tuple[str, str] = ('config', 'lifter_config')) -> Optional[str]:
    """How the 2D model's keypoints become the lifter's input.

    Args:
        pose2d_meta, lifter_meta (dict): The two models' ``dataset_meta``
        names (tuple): The parameters the error names (2D model, lifter)

    Returns:
        str | None: ``None`` when the 2D model's keypoints are the lifter's (the same keypoint
        names in the same order, e.g. a Human3.6M 2D model), else the 2D dataset's name for
        MMPose's ``convert_keypoint_definition(keypoints, name, lifter dataset)``.

    Raises:
        InputError: naming both models' layouts (dataset name, number of keypoints) when
        neither applies.
    """
    name_2d, k_2d = pose2d_meta.get('dataset_name'), pose2d_meta.get('num_keypoints')
    name_3d, k_3d = lifter_meta.get('dataset_name'), lifter_meta.get('num_keypoints')
    if pose2d_meta.get('keypoint_id2name') == lifter_meta.get('keypoint_id2name') \
            and k_2d == k_3d:
        return None
    if name_3d in H36M_LIFTER_DATASETS and k_3d == 17 and H36M_SOURCES.get(name_2d) == k_2d:
        return name_2d
    sources = ', '.join(f'{n} ({k})' for n, k in H36M_SOURCES.items())
    raise InputError(
        f'the lifter `{names[1]}` takes {k_3d} keypoints in the {name_3d!r} layout, the 2D '
        f'model `{names[0]}` gives {k_2d} keypoints in the {name_2d!r} layout: expected the '
        f'same layout, or a 2D layout that MMPose converts to Human3.6M ({sources}) for a '
        'Human3.6M lifter (17 keypoints)')


def to_lifter_layout(keypoints: np.ndarray, scores: np.ndarray,
                     conversion: Optional[str], lifter_dataset: str) -> Tuple[np.ndarray,
                                                                             np.ndarray]:
    """Keypoints (N, K, 2) and scores (N, K) of the 2D model in the lifter's layout
    (:func:`keypoint_conversion`): (N, K', 2) pixels and (N, K') scores, float32."""
    from mmpose.apis import convert_keypoint_definition
    both = np.concatenate([keypoints, scores[..., None]], axis=-1).astype(np.float32)
    if conversion is not None:
        both = convert_keypoint_definition(both, conversion, lifter_dataset)
    return both[..., :2], both[..., 2]


def padded_frames(num_frames: int, seq_len: int, causal: bool, seq_step: int = 1) -> List[int]:
    """The frames whose lifter window (MMPose's ``extract_pose_sequence``) reaches past the
    first or last frame and is filled by repeating it."""
    left = seq_len - 1 if causal else (seq_len - 1) // 2
    right = 0 if causal else left
    return [t for t in range(num_frames)
            if left - t // seq_step > 0 or right - (num_frames - 1 - t) // seq_step > 0]


def normalize_window(window_2d: List[list], stats_info: Optional[dict]) -> List[list]:
    """MMPose's ``norm_pose_2d`` of ``inference_pose_lifter_model``, in float32: each person's
    keypoints moved and scaled from its box (centre, longer side) to the lifter dataset's mean
    box (``stats_info``: ``bbox_center`` (2,), ``bbox_scale``; without it the mean of the
    window's boxes, as MMPose). MMPose 1.3.2 computes it in float64 under NumPy 1.x, which the
    float32 lifter then rejects ("expected scalar type Double").

    Args:
        window_2d (list[list[PoseDataSample]]): Per frame of the window, one-person samples
            with ``keypoints`` (1, K, 2) and ``bboxes`` (1, 4) xyxy, pixels

    Returns:
        list[list[PoseDataSample]]: The same structure with normalised copies (a sample repeated
        in the window is copied once).
    """
    from mmpose.structures import PoseDataSample
    if stats_info is not None:
        center = np.asarray(stats_info['bbox_center'], np.float32).reshape(1, 2)
        scale = np.float32(stats_info['bbox_scale'])
    else:
        boxes = np.array([s.pred_instances.bboxes[0] for frame in window_2d for s in frame],
                         np.float32).reshape(-1, 4)
        center = ((boxes[:, :2] + boxes[:, 2:]) / 2).mean(0, keepdims=True)
        scale = (boxes[:, 2:] - boxes[:, :2]).max(1).mean()
    copies: Dict[int, object] = {}

    def normalized(sample):
        if id(sample) not in copies:
            box = np.asarray(sample.pred_instances.bboxes, np.float32)[0]
            kpts = np.asarray(sample.pred_instances.keypoints, np.float32)
            copy_ = PoseDataSample(gt_instances=sample.gt_instances.clone())
            copy_.pred_instances = sample.pred_instances.clone()
            copy_.pred_instances.keypoints = ((kpts - (box[:2] + box[2:]) / 2)
                                              / (box[2:] - box[:2]).max() * scale
                                              + center).astype(np.float32)
            copy_.track_id = sample.track_id
            copies[id(sample)] = copy_
        return copies[id(sample)]

    return [[normalized(sample) for sample in frame] for frame in window_2d]


def lift(lifter, frames: Sequence[FramePoses], conversion: Optional[str],
         norm_pose_2d: bool = True) -> List[List[dict]]:
    """3D poses of every person of every frame.

    Args:
        lifter: From :func:`init_lifter`
        frames (sequence of FramePoses): The 2D poses of consecutive frames, track ids set
        conversion (str, optional): :func:`keypoint_conversion`
        norm_pose_2d (bool): Move and scale each box (with its keypoints) to the lifter
            dataset's mean box (``dataset_meta['stats_info']``) first, as MMPose's demo and
            inferencer do by default

    Returns:
        list[list[dict]]: per frame, per person (the frame's order): ``track_id``,
        ``keypoints_3d`` (K, 3), ``keypoint_scores_3d`` (K,), ``keypoints_2d`` (K, 2),
        ``keypoint_scores_2d`` (K,), ``bbox`` (5,) (see the module docstring).
    """
    from mmengine.structures import InstanceData
    from mmpose.apis import extract_pose_sequence, inference_pose_lifter_model
    from mmpose.structures import PoseDataSample
    window = lifter_window(lifter)
    lifter_dataset = lifter.dataset_meta['dataset_name']
    inputs = []  # per frame: one-person samples in the lifter's layout, as MMPose's demo
    for frame in frames:
        converted = []
        for sample in frame.samples:
            pred = sample.pred_instances
            kpts, scores = to_lifter_layout(np.asarray(pred.keypoints),
                                            np.asarray(pred.keypoint_scores), conversion,
                                            lifter_dataset)
            bbox = np.concatenate([np.asarray(pred.bboxes, np.float32).reshape(1, 4),
                                   np.asarray(pred.bbox_scores, np.float32).reshape(1, 1)], 1)
            lifted = PoseDataSample(gt_instances=InstanceData())
            lifted.pred_instances = InstanceData(keypoints=kpts, keypoint_scores=scores,
                                                 bboxes=bbox[:, :4], bbox_scores=bbox[:, 4])
            lifted.track_id = sample.track_id
            converted.append(lifted)
        inputs.append(converted)

    by_track = [{sample.track_id: sample for sample in frame} for frame in inputs]
    results = []
    for t, frame in enumerate(frames):
        if not inputs[t]:
            results.append([])
            continue
        # the window's frames (MMPose's extract_pose_sequence, edge frames repeated), then per
        # person of frame t its track in them, a frame without the track repeating the one
        # next to it towards t. (MMPose's collate_pose_sequence means to do the latter but,
        # in 1.3.2, fills the frames after a gap right of t with zeros; so the window is
        # gathered here and handed to inference_pose_lifter_model in track order.)
        idx = extract_pose_sequence(list(range(len(frames))), t, window['causal'],
                                    window['seq_len'], window['seq_step'])
        centre = len(idx) - 1 if window['causal'] else len(idx) // 2
        window_2d = [[None] * len(inputs[t]) for _ in idx]
        for n, person in enumerate(inputs[t]):
            window_2d[centre][n] = person
            for j in range(centre - 1, -1, -1):
                window_2d[j][n] = by_track[idx[j]].get(person.track_id, window_2d[j + 1][n])
            for j in range(centre + 1, len(idx)):
                window_2d[j][n] = by_track[idx[j]].get(person.track_id, window_2d[j - 1][n])
        if norm_pose_2d:
            window_2d = normalize_window(window_2d, lifter.dataset_meta.get('stats_info'))
        out = inference_pose_lifter_model(lifter, window_2d, with_track_id=False,
                                          image_size=frame.size, norm_pose_2d=False)
        persons = []
        for sample_2d, sample_3d in zip(inputs[t], out):
            pred = sample_3d.pred_instances
            k = pred.keypoints.shape[-2]
            p2d = sample_2d.pred_instances
            persons.append(dict(
                track_id=int(sample_2d.track_id),
                keypoints_3d=np.asarray(pred.keypoints, np.float32).reshape(k, 3),
                keypoint_scores_3d=np.asarray(pred.keypoint_scores, np.float32).reshape(k),
                keypoints_2d=p2d.keypoints[0], keypoint_scores_2d=p2d.keypoint_scores[0],
                bbox=np.concatenate([p2d.bboxes[0], p2d.bbox_scores]).astype(np.float32)))
        results.append(persons)
    return results


def to_drawing_space(keypoints_3d: np.ndarray, rebase_height: bool = True) -> np.ndarray:
    """The lifter's camera-axes keypoints (..., K, 3) in the space MMPose's demo, inferencer and
    ``Pose3dLocalVisualizer`` use: ``(-x, z, -y)`` (height up), the lowest joint of each pose
    at height 0 if ``rebase_height``."""
    out = keypoints_3d[..., [0, 2, 1]] * np.array([-1, 1, -1], dtype=keypoints_3d.dtype)
    if rebase_height:
        out[..., 2] -= out[..., 2].min(axis=-1, keepdims=True)
    return out


# --------------------------------------------------------------------------- outputs
def save_poses_3d(frames: Sequence[FramePoses], poses: List[List[dict]], joint_names: List[str],
                  info: dict, out_stem: str, formats: Sequence[str] = SAVE_FORMATS) -> List[str]:
    """Write the predictions as ``<out_stem>.json`` and/or ``<out_stem>.npz`` (layout: module
    docstring). ``info``: ``seq_len``, ``seq_step``, ``causal``, ``padded_frames``,
    ``lifter_config``. Returns the written paths."""
    without = [f.index for f, p in zip(frames, poses) if not p]
    written = []
    if 'json' in formats:
        doc = dict(
            frames=[dict(frame_index=f.index, frame_name=f.name, frame_size=list(f.size),
                         persons=[{k: (v.round(5).tolist() if isinstance(v, np.ndarray) else v)
                                   for k, v in person.items()} for person in p])
                    for f, p in zip(frames, poses)],
            frames_without_person=without, joint_names=list(joint_names),
            units='the lifter\'s (metres for MMPose\'s Human3.6M lifters); 2D: pixels',
            **info)
        with open(out_stem + '.json', 'w') as f:
            json.dump(doc, f)
        written.append(out_stem + '.json')
    if 'npz' in formats:
        rows = [(f.index, person) for f, p in zip(frames, poses) for person in p]
        k = len(joint_names)

        def stack(key, shape, dtype=np.float32):
            return np.array([r[1][key] for r in rows], dtype=dtype).reshape((len(rows), ) + shape)

        np.savez(
            out_stem + '.npz',
            frame_index=np.array([r[0] for r in rows], np.int32),
            track_id=np.array([r[1]['track_id'] for r in rows], np.int32),
            keypoints_3d=stack('keypoints_3d', (k, 3)),
            keypoint_scores_3d=stack('keypoint_scores_3d', (k, )),
            keypoints_2d=stack('keypoints_2d', (k, 2)),
            keypoint_scores_2d=stack('keypoint_scores_2d', (k, )),
            bboxes=stack('bbox', (5, )),
            frame_names=np.array([f.name for f in frames]),
            frame_sizes=np.array([f.size for f in frames], np.int32).reshape(-1, 2),
            frames_without_person=np.array(without, np.int32),
            joint_names=np.array(joint_names),
            seq_len=info['seq_len'], seq_step=info['seq_step'], causal=info['causal'],
            padded_frames=np.array(info['padded_frames'], np.int32))
        written.append(out_stem + '.npz')
    return written


class Pose3DDrawer:
    """MMPose's 3D visualizer (:class:`cpn_mm.visualization.Pose3dAggVisualizer`) set up as
    MMPose's ``body3d_pose_lifter_demo.py`` sets it up: the lifter config's visualizer, the 2D
    model's colours and skeleton for the 2D panel."""

    def __init__(self, lifter, pose2d_meta: dict, conversion: Optional[str], radius: int = 3,
                 thickness: int = 1, kpt_thr: float = 0.3) -> None:
        from mmpose.registry import VISUALIZERS
        cfg = copy.deepcopy(lifter.cfg.get('visualizer', dict(type='Pose3dLocalVisualizer')))
        cfg.update(type='Pose3dAggVisualizer', name=f'cpn_demo_3d_{id(self)}', radius=radius,
                   line_width=thickness, det_kpt_color=pose2d_meta.get('keypoint_colors'),
                   det_dataset_skeleton=pose2d_meta.get('skeleton_links'),
                   det_dataset_link_color=pose2d_meta.get('skeleton_link_colors'))
        cfg.pop('vis_backends', None)  # drawn frames are written by the caller
        self.visualizer = VISUALIZERS.build(cfg)
        self.visualizer.set_dataset_meta(lifter.dataset_meta)
        self.lifter_dataset = lifter.dataset_meta['dataset_name']
        self.dataset_2d = conversion or self.lifter_dataset
        self.convert = conversion is not None
        self.k_2d = pose2d_meta['num_keypoints']
        self.kpt_thr = kpt_thr

    def draw(self, img: np.ndarray, frame: FramePoses, persons: List[dict],
             num_instances: int) -> np.ndarray:
        """The BGR frame with its 2D poses, next to the 3D poses (drawing space,
        :func:`to_drawing_space`), as one BGR image."""
        import mmcv
        from mmengine.structures import InstanceData
        from mmpose.structures import PoseDataSample, merge_data_samples
        k = persons[0]['keypoints_3d'].shape[0] if persons else 17
        sample_3d = PoseDataSample(pred_instances=InstanceData(
            keypoints=to_drawing_space(np.array([p['keypoints_3d'] for p in persons],
                                                np.float32).reshape(-1, k, 3)),
            keypoint_scores=np.array([p['keypoint_scores_3d'] for p in persons],
                                     np.float32).reshape(-1, k)))
        if frame.samples:
            sample_2d = merge_data_samples(frame.samples)
        else:
            sample_2d = PoseDataSample(pred_instances=InstanceData(
                keypoints=np.zeros((0, self.k_2d, 2), np.float32),
                keypoint_scores=np.zeros((0, self.k_2d), np.float32),
                bboxes=np.zeros((0, 4), np.float32)))
        self.visualizer.add_datasample(
            'result', mmcv.bgr2rgb(img), data_sample=sample_3d, det_data_sample=sample_2d,
            draw_gt=False, dataset_2d=self.dataset_2d, dataset_3d=self.lifter_dataset,
            convert_keypoint=self.convert, kpt_thr=self.kpt_thr, num_instances=num_instances,
            show=False)
        return mmcv.rgb2bgr(self.visualizer.get_image())


def _write_drawings(drawer: Pose3DDrawer, input: str, frames: Sequence[FramePoses],
                    poses: List[List[dict]], fps: Optional[float], out_dir: str) -> List[str]:
    """Draw every frame (read again from ``input``) into ``<out_dir>/<video name>.mp4`` or
    one image per input image; returns the written paths."""
    import cv2
    import mmcv
    num_instances = max([len(p) for p in poses] + [1])  # one width for every frame
    images, _ = iter_frames(input)
    if fps is None:
        outputs = []
        for (img, name, _), frame, persons in zip(images, frames, poses):
            out_path = osp.join(out_dir, osp.basename(name))
            mmcv.imwrite(drawer.draw(img, frame, persons, num_instances), out_path)
            outputs.append(out_path)
        return outputs
    out_path = osp.join(out_dir, osp.splitext(osp.basename(input))[0] + '.mp4')
    writer, size = None, None
    try:
        for (img, _, _), frame, persons in zip(images, frames, poses):
            drawn = drawer.draw(img, frame, persons, num_instances)
            if writer is None:
                size = (drawn.shape[1], drawn.shape[0])
                writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
                if not writer.isOpened():
                    raise InputError(f'cannot write video {out_path!r} (no mp4v encoder in '
                                     'OpenCV)')
            if (drawn.shape[1], drawn.shape[0]) != size:
                drawn = cv2.resize(drawn, size)
            writer.write(drawn)
    finally:
        if writer is not None:
            writer.release()
    return [out_path]


def run_demo_3d(config: str, checkpoint: Optional[str], lifter_config: str, input: str,
                lifter_checkpoint: Optional[str] = None, det_config: Optional[str] = None,
                det_checkpoint: Optional[str] = None, bboxes: Optional[str] = None,
                det_cat_id: int = 0, bbox_thr: float = 0.3, nms_thr: float = 0.3,
                out_dir: str = 'work_dirs/demo_3d', save: Sequence[str] = SAVE_FORMATS,
                draw: bool = True, device: str = 'cpu', dtype: Optional[str] = None,
                backend: str = 'auto', precision: Optional[str] = None,
                onnx: Optional[str] = None, compile: bool = False,
                use_oks_tracking: bool = False, tracking_thr: float = 0.3,
                norm_pose_2d: bool = True, kpt_thr: float = 0.3, radius: int = 3,
                thickness: int = 1) -> Dict[str, object]:
    """Video or images to 3D poses (``tools/demo_3d.py``; stages, padding and the saved layout:
    the module docstring).

    Args:
        config, checkpoint (str): The 2D pose model (CPN); ``checkpoint`` ``None``: random
            weights
        lifter_config (str): An MMPose ``PoseLifter`` config; ``lifter_checkpoint`` its
            weights (``None``: random, with a warning)
        input (str): A video, a folder of images (one sequence) or an image
        det_config, det_checkpoint, bboxes, det_cat_id, bbox_thr, nms_thr: Person boxes, as
            :func:`cpn_mm.apis.run_demo` (default: the whole frame)
        out_dir (str): Output folder: ``predictions_3d.json`` / ``.npz`` (``save``: which),
            and, with ``draw``, the drawn video ``<name>.mp4`` or images
        device, dtype, backend, precision, onnx, compile: The 2D runtime, as
            :func:`cpn_mm.apis.run_demo`
        use_oks_tracking, tracking_thr: :class:`~cpn_mm.apis.pose_track.PoseTracker`
        norm_pose_2d (bool): See :func:`lift`
        kpt_thr, radius, thickness: Drawing

    Returns:
        dict: ``predictions`` (written files), ``outputs`` (drawn files), ``frames``,
        ``persons`` (rows), ``tracks`` (number of track ids), ``frames_without_person``,
        ``padded_frames``, ``window`` (:func:`lifter_window`), ``conversion``
        (:func:`keypoint_conversion`), ``runtime`` (the 2D path) and ``timing``
        (``pose_s``, ``detector_s``, ``lift_s``, ``draw_s``, ``total_s``).

    Raises:
        InputError: for a bad argument or input, naming the parameter.
    """
    save = list(save)
    bad = [s for s in save if s not in SAVE_FORMATS]
    if bad:
        raise InputError(f'`save`: expected formats among {SAVE_FORMATS}, got {bad}')
    frames_iter, fps = iter_frames(input)  # checks `input` before any model loads
    lifter = init_lifter(lifter_config, lifter_checkpoint, device)
    window = lifter_window(lifter)
    os.makedirs(out_dir, exist_ok=True)
    stage = Pose2DStage(config, checkpoint, det_config, det_checkpoint, bboxes, det_cat_id,
                        bbox_thr, nms_thr, device, dtype, backend, precision, onnx, compile,
                        out_dir, use_oks_tracking, tracking_thr)
    conversion = keypoint_conversion(stage.model.dataset_meta, lifter.dataset_meta)

    t_start = time.perf_counter()
    frames = [stage(img, name, image_id, i) for i, (img, name, image_id) in
              enumerate(frames_iter)]
    padded = padded_frames(len(frames), window['seq_len'], window['causal'], window['seq_step'])
    if len(frames) < window['receptive_field']:
        warnings.warn(f'{len(frames)} frame(s) for a lifter of {window["receptive_field"]} '
                      'frames: every window is padded by repeating the first/last frame '
                      '(MMPose\'s extract_pose_sequence)')
    t0 = time.perf_counter()
    poses = lift(lifter, frames, conversion, norm_pose_2d)
    lift_s = time.perf_counter() - t0
    without = [f.index for f, p in zip(frames, poses) if not p]

    joint_names = [lifter.dataset_meta['keypoint_id2name'][i]
                   for i in range(lifter.dataset_meta['num_keypoints'])]
    info = dict(seq_len=window['seq_len'], seq_step=window['seq_step'], causal=window['causal'],
                padded_frames=padded, lifter_config=lifter_config)
    predictions = save_poses_3d(frames, poses, joint_names, info,
                                osp.join(out_dir, 'predictions_3d'), save)
    t0 = time.perf_counter()
    outputs = []
    if draw:
        drawer = Pose3DDrawer(lifter, stage.model.dataset_meta, conversion, radius, thickness,
                              kpt_thr)
        outputs = _write_drawings(drawer, input, frames, poses, fps, out_dir)
    timing = dict(pose_s=stage.timing['pose_s'], detector_s=stage.timing['detector_s'],
                  lift_s=lift_s, draw_s=time.perf_counter() - t0,
                  total_s=time.perf_counter() - t_start)
    return dict(predictions=predictions, outputs=outputs, frames=len(frames),
                persons=sum(len(p) for p in poses),
                tracks=len({p['track_id'] for ps in poses for p in ps}),
                frames_without_person=without, padded_frames=padded, window=window,
                conversion=conversion, runtime=stage.runtime_name, timing=timing)
