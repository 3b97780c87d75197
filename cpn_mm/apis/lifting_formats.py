# Copyright (c) cpn_mm authors. All rights reserved.
"""CPN's 2D detections of a video or a folder of frames in the files 3D lifters are trained on
(``tools/export_2d_for_lifting.py``). Boxes, CPN and track ids: :class:`Pose2DStage` (the
options of ``tools/demo.py``).

``mmpose``: MMPose's ``joint_2d_det_files``, what ``Human36mDataset`` reads with
``keypoint_2d_src='detection'`` from ``keypoint_2d_det_file`` (the ``cpn_ft_h36m_dbb`` files of
MMPose's ``video_pose_lift/h36m/*cpn-ft*`` lifters): ``np.load(file).astype(float32)``, shape
(N, 17, 3), one row per frame of the annotation file in its order; ``[..., :2]`` become the
``keypoints`` (x, y in input-image pixels), ``[..., 2]`` the ``keypoints_visible`` (here the CPN
score). One file per person track: ``<out_dir>/joint_2d_det_files/<name>_track<id>.npy``,
(T, 17, 3) float32 for the T frames of the input, Human3.6M joint order (``pelvis, right_hip,
right_knee, right_foot, left_hip, ..., right_wrist``, MMPose's ``h36m.py``; COCO-layout models
converted by MMPose's ``convert_keypoint_definition``). MMPose's dataset reads one file for the
whole annotation file: concatenate the sequences' arrays (``np.concatenate``) in the order of
its frames.

``videopose3d``: the per-video ``.npz`` of VideoPose3D's ``inference/infer_video_d2.py`` (the
input of ``data/prepare_data_2d_custom.py``, which builds the ``custom`` dataset):
``<out_dir>/videopose3d/<input file name>.npz`` (a video ``clip.mp4`` -> ``clip.mp4.npz``, as
``infer_video_d2.py`` names it; a folder -> ``<folder name>.npz``) with

- ``boxes``: object array (T, 2), per frame ``[<unused class 0>, (M, 5) float32 [x1, y1, x2, y2,
  score]]`` in input-image pixels (Detectron's per-class lists, persons are class 1);
- ``keypoints``: object array (T, 2), per frame ``[<unused>, (M, 4, 17) float32]``, rows x, y,
  logit (0, as ``infer_video_d2.py`` writes it), score; **COCO** keypoint order (VideoPose3D's
  ``custom`` dataset uses ``suggest_metadata('coco')``), so the 2D model must be a COCO one;
- ``segments``: (T,) ``None``; ``metadata``: ``{'w': width, 'h': height}`` of the frames.

Frames without persons: in ``videopose3d`` the frame's arrays are empty (M = 0):
``prepare_data_2d_custom.py`` interpolates them linearly (it picks the highest-scoring box of
every other frame). In ``mmpose`` every frame has a row; where the track is absent, x, y are
interpolated the same way (linearly between the nearest frames with it, the first/last such
frame repeated at the ends) and the score is 0. ``<out_dir>/export_2d.json`` lists per track
the frames it is missing from, and the frames without any person.
"""
import json
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from cpn_mm.utils.errors import InputError
from .lifting import FramePoses, Pose2DStage, iter_frames, keypoint_conversion, to_lifter_layout

EXPORT_FORMATS = ('mmpose', 'videopose3d')


def h36m_meta() -> dict:
    """MMPose's Human3.6M ``dataset_meta`` (``configs/_base_/datasets/h36m.py``)."""
    from mmpose.datasets.datasets.body3d import Human36mDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(Human36mDataset.METAINFO)


def coco_meta() -> dict:
    """MMPose's COCO ``dataset_meta`` (``configs/_base_/datasets/coco.py``)."""
    from mmpose.datasets import CocoDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(CocoDataset.METAINFO)


def joint_names(meta: dict) -> List[str]:
    """The keypoint names of a ``dataset_meta`` in index order."""
    return [meta['keypoint_id2name'][i] for i in range(meta['num_keypoints'])]


def check_videopose3d_layout(pose2d_meta: dict) -> None:
    """An :class:`InputError` unless the 2D model's keypoints are COCO's 17 (VideoPose3D's
    ``custom`` dataset has no conversion)."""
    if pose2d_meta.get('keypoint_id2name') != coco_meta()['keypoint_id2name']:
        raise InputError(
            f'`formats` videopose3d: VideoPose3D\'s custom dataset takes COCO\'s 17 keypoints, '
            f'the 2D model `config` gives {pose2d_meta.get("num_keypoints")} in the '
            f'{pose2d_meta.get("dataset_name")!r} layout')


def _interpolate_missing(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, ...) values with the rows where ``present`` is False linearly interpolated from the
    others (``np.interp``: the first/last present row repeated at the ends), as VideoPose3D's
    ``prepare_data_2d_custom.py`` fills frames without a person."""
    if present.all() or not present.any():
        return values
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(t, t[present], flat[present, j]) for j in range(flat.shape[1])],
                   axis=1)
    return out.reshape(values.shape).astype(values.dtype)


def mmpose_det_arrays(frames: Sequence[FramePoses], conversion: Optional[str]) -> Dict[int, dict]:
    """Per track id: ``array`` (T, 17, 3) float32 (x, y pixels, score; Human3.6M order; absent
    frames interpolated with score 0, module docstring) and ``missing`` (the frames without
    the track).

    Args:
        frames: The 2D poses of the T frames (:class:`Pose2DStage`)
        conversion (str, optional): :func:`cpn_mm.apis.lifting.keypoint_conversion` to
            Human3.6M
    """
    num = len(frames)
    tracks: Dict[int, dict] = {}
    for t, frame in enumerate(frames):
        for sample in frame.samples:
            pred = sample.pred_instances
            kpts, scores = to_lifter_layout(np.asarray(pred.keypoints),
                                            np.asarray(pred.keypoint_scores), conversion, 'h36m')
            track = tracks.setdefault(int(sample.track_id), dict(
                array=np.zeros((num, kpts.shape[1], 3), np.float32),
                present=np.zeros(num, bool)))
            track['array'][t, :, :2] = kpts[0]
            track['array'][t, :, 2] = scores[0]
            track['present'][t] = True
    out = {}
    for track_id, track in sorted(tracks.items()):
        array = track['array']
        array[..., :2] = _interpolate_missing(array[..., :2], track['present'])
        out[track_id] = dict(array=array,
                             missing=[int(t) for t in np.flatnonzero(~track['present'])])
    return out


def videopose3d_arrays(frames: Sequence[FramePoses]) -> Dict[str, np.ndarray]:
    """``boxes``, ``keypoints``, ``segments`` and ``metadata`` of VideoPose3D's per-video
    ``.npz`` (module docstring), for a 2D model in COCO's layout."""
    num = len(frames)
    boxes = np.empty((num, 2), dtype=object)
    keypoints = np.empty((num, 2), dtype=object)
    for t, frame in enumerate(frames):
        rows_b, rows_k = [], []
        for sample in frame.samples:
            pred = sample.pred_instances
            rows_b.append(np.concatenate([np.asarray(pred.bboxes, np.float32).reshape(4),
                                          np.asarray(pred.bbox_scores, np.float32).reshape(1)]))
            k = np.asarray(pred.keypoints, np.float32).reshape(-1, 2)
            s = np.asarray(pred.keypoint_scores, np.float32).reshape(-1)
            rows_k.append(np.stack([k[:, 0], k[:, 1], np.zeros_like(s), s]))  # (4, 17)
        boxes[t, 0] = np.zeros((0, 5), np.float32)
        keypoints[t, 0] = np.zeros((0, 4, 17), np.float32)
        boxes[t, 1] = np.array(rows_b, np.float32).reshape(-1, 5)
        keypoints[t, 1] = np.array(rows_k, np.float32).reshape(-1, 4, 17)
    segments = np.empty(num, dtype=object)
    w, h = frames[0].size
    metadata = np.empty((), dtype=object)
    metadata[()] = dict(w=int(w), h=int(h))
    return dict(boxes=boxes, segments=segments, keypoints=keypoints, metadata=metadata)


def export_2d_for_lifting(config: str, checkpoint: Optional[str], input: str,
                          out_dir: str = 'work_dirs/export_2d',
                          formats: Sequence[str] = EXPORT_FORMATS,
                          det_config: Optional[str] = None, det_checkpoint: Optional[str] = None,
                          bboxes: Optional[str] = None, det_cat_id: int = 0,
                          bbox_thr: float = 0.3, nms_thr: float = 0.3, device: str = 'cpu',
                          dtype: Optional[str] = None, backend: str = 'auto',
                          precision: Optional[str] = None, onnx: Optional[str] = None,
                          compile: bool = False, use_oks_tracking: bool = False,
                          tracking_thr: float = 0.3) -> Dict[str, object]:
    """CPN's 2D detections of ``input`` (a video, a folder of frames sorted by name, or an image)
    written in the ``formats`` of the module docstring.

    Args:
        config, checkpoint (str): The 2D pose model (CPN)
        input (str): A video, a folder of frames or an image (one sequence)
        out_dir (str): Output folder (``joint_2d_det_files/``, ``videopose3d/``,
            ``export_2d.json``)
        formats (sequence of str): ``'mmpose'`` and/or ``'videopose3d'``
        others: Boxes, runtime and tracking, as :func:`cpn_mm.apis.lifting.run_demo_3d`

    Returns:
        dict: what ``export_2d.json`` holds: ``input``, ``frames``, ``frame_size`` [w, h] of
        the first frame, ``frames_without_person``, ``tracks`` (per id: ``file``, ``missing``
        frames), ``videopose3d`` (the file or ``None``), ``joint_order`` per format, and
        ``index`` (the JSON's path).

    Raises:
        InputError: for a bad argument or input, naming the parameter; for ``videopose3d``
        with a 2D model not in COCO's layout, or frames of different sizes.
    """
    formats = list(formats)
    bad = [f for f in formats if f not in EXPORT_FORMATS]
    if bad or not formats:
        raise InputError(f'`formats`: expected one or more of {EXPORT_FORMATS}, got {formats}')
    frames_iter, _ = iter_frames(input)
    os.makedirs(out_dir, exist_ok=True)
    stage = Pose2DStage(config, checkpoint, det_config, det_checkpoint, bboxes, det_cat_id,
                        bbox_thr, nms_thr, device, dtype, backend, precision, onnx, compile,
                        out_dir, use_oks_tracking, tracking_thr)
    meta = stage.model.dataset_meta
    # the layouts are checked before the first frame is read
    try:
        conversion = keypoint_conversion(meta, h36m_meta())
    except InputError as e:
        raise InputError(f'`config`: the 2D model gives {meta.get("num_keypoints")} keypoints '
                         f'in the {meta.get("dataset_name")!r} layout, which MMPose does not '
                         'convert to Human3.6M\'s 17 joints (joint_2d_det_files)') from e
    if 'videopose3d' in formats:
        check_videopose3d_layout(meta)
    frames = [stage(img, name, image_id, i) for i, (img, name, image_id) in
              enumerate(frames_iter)]
    name = osp.basename(osp.normpath(input))
    stem = osp.splitext(name)[0] if osp.isfile(input) else name
    index = dict(input=input, frames=len(frames), frame_size=list(frames[0].size),
                 frames_without_person=[f.index for f in frames if not f.samples],
                 tracks={}, videopose3d=None, joint_order={})
    if 'mmpose' in formats:
        folder = osp.join(out_dir, 'joint_2d_det_files')
        os.makedirs(folder, exist_ok=True)
        for track_id, track in mmpose_det_arrays(frames, conversion).items():
            path = osp.join(folder, f'{stem}_track{track_id}.npy')
            np.save(path, track['array'])
            index['tracks'][track_id] = dict(file=path, missing=track['missing'])
        index['joint_order']['mmpose'] = joint_names(h36m_meta())
    if 'videopose3d' in formats:
        sizes = {f.size for f in frames}
        if len(sizes) > 1:
            raise InputError(f'`input` {input!r}: VideoPose3D\'s metadata holds one frame size, '
                             f'the frames have {sorted(sizes)}')
        if len(index['frames_without_person']) == len(frames):
            warnings.warn(f'{input}: no person in any frame; VideoPose3D\'s '
                          'prepare_data_2d_custom.py cannot interpolate such a video')
        folder = osp.join(out_dir, 'videopose3d')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'{name}.npz')
        np.savez_compressed(path, **videopose3d_arrays(frames))
        index['videopose3d'] = path
        index['joint_order']['videopose3d'] = joint_names(coco_meta())
    index['index'] = osp.join(out_dir, 'export_2d.json')
    with open(index['index'], 'w') as f:
        json.dump(index, f, indent=1)
    return index


__all__: List[str] = ['export_2d_for_lifting', 'mmpose_det_arrays', 'videopose3d_arrays',
                      'h36m_meta', 'coco_meta', 'joint_names', 'check_videopose3d_layout',
                      'EXPORT_FORMATS']
