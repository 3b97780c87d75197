# Copyright (c) cpn_mm authors. All rights reserved.
"""COCO-17 keypoints to Human3.6M-17 keypoints, for annotations with visibility flags.

The joint definitions are MMPose's (``mmpose.apis.inference_3d.convert_keypoint_definition``
with ``pose_det_dataset='coco'``, ``pose_lift_dataset='h36m'``), the conversion that feeds COCO
detections to MMPose's Human3.6M lifters: pelvis (root) = mid-hips, thorax = mid-shoulders,
spine = mid pelvis/thorax, neck base = nose, head = mid-eyes, limbs copied. Written as one
(17, 17) weight matrix, so that a whole file converts in one ``einsum`` and the flags follow the
same table: a derived joint is labelled (visible) only if all of its sources are, i.e. its COCO
flag ``v`` is the minimum over its sources, and an unlabelled joint is (0, 0, 0) as in COCO.
"""
import copy
from typing import Dict, Sequence

import numpy as np

COCO_NAMES = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
              'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
              'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

# Human3.6M joint (MMPose's configs/_base_/datasets/h36m.py order) -> averaged COCO joints
H36M_SOURCES: Dict[str, Sequence[str]] = {
    'root': ('left_hip', 'right_hip'),
    'right_hip': ('right_hip', ),
    'right_knee': ('right_knee', ),
    'right_foot': ('right_ankle', ),
    'left_hip': ('left_hip', ),
    'left_knee': ('left_knee', ),
    'left_foot': ('left_ankle', ),
    # mid pelvis/thorax = the mean of the four hip and shoulder points
    'spine': ('left_hip', 'right_hip', 'left_shoulder', 'right_shoulder'),
    'thorax': ('left_shoulder', 'right_shoulder'),
    'neck_base': ('nose', ),
    'head': ('left_eye', 'right_eye'),
    'left_shoulder': ('left_shoulder', ),
    'left_elbow': ('left_elbow', ),
    'left_wrist': ('left_wrist', ),
    'right_shoulder': ('right_shoulder', ),
    'right_elbow': ('right_elbow', ),
    'right_wrist': ('right_wrist', ),
}
H36M_NAMES = tuple(H36M_SOURCES)
# the links of MMPose's h36m metainfo, as 1-based index pairs (COCO's category convention)
H36M_SKELETON = [[1, 2], [2, 3], [3, 4], [1, 5], [5, 6], [6, 7], [1, 8], [8, 9], [9, 10],
                 [10, 11], [9, 12], [12, 13], [13, 14], [9, 15], [15, 16], [16, 17]]


def _weights() -> np.ndarray:
    """(17 Human3.6M, 17 COCO) averaging weights; each row sums to 1."""
    w = np.zeros((len(H36M_NAMES), len(COCO_NAMES)))
    for j, sources in enumerate(H36M_SOURCES.values()):
        w[j, [COCO_NAMES.index(s) for s in sources]] = 1 / len(sources)
    return w


WEIGHTS = _weights()


def coco_to_h36m_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """Convert COCO keypoints with flags to Human3.6M's 17 joints.

    Args:
        keypoints (np.ndarray): (N, 17, 3) COCO keypoints ``[x, y, v]`` in image pixels,
            ``v`` COCO's flag (0 unlabelled, 1 labelled but occluded, 2 visible).

    Returns:
        np.ndarray: (N, 17, 3) float64 ``[x, y, v]`` in Human3.6M's joint order, same pixels;
        ``v`` of a joint is the minimum of its sources' flags and ``x = y = 0`` where ``v = 0``.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[1:] != (17, 3):
        raise ValueError(f'keypoints: expected shape (N, 17, 3) of COCO [x, y, v], got '
                         f'{keypoints.shape}')
    xy = np.einsum('jk,nkc->njc', WEIGHTS, keypoints[..., :2])
    v = np.where(WEIGHTS > 0, keypoints[:, None, :, 2], np.inf).min(axis=-1)
    xy[v == 0] = 0
    return np.concatenate([xy, v[..., None]], axis=-1)


def coco_to_h36m_annotations(coco: dict, source: str = 'annotations') -> dict:
    """Convert a COCO person-keypoint annotation file's content to Human3.6M's 17 joints.

    Images, licences, boxes, areas and crowd flags are kept; each annotation's ``keypoints`` and
    ``num_keypoints`` (labelled joints) are converted, and the person category names Human3.6M's
    joints and skeleton (MMPose's h36m metainfo). Nothing is dropped: an annotation without
    keypoints stays one, with 17 unlabelled joints.

    Args:
        coco (dict): the JSON content (``images``, ``annotations``, ``categories``).
        source (str): the file's name, for error messages.

    Returns:
        dict: a new COCO-format dict with the Human3.6M layout.
    """
    categories = coco.get('categories', [])
    if len(categories) != 1 or tuple(categories[0].get('keypoints', ())) != COCO_NAMES:
        raise ValueError(f'{source}: expected one person category with COCO\'s 17 keypoints '
                         f'{list(COCO_NAMES)}, got categories {categories}')
    out = copy.deepcopy({k: v for k, v in coco.items() if k != 'annotations'})
    out['categories'] = [dict(categories[0], keypoints=list(H36M_NAMES), skeleton=H36M_SKELETON)]
    anns = coco['annotations']
    for ann in anns:
        if len(ann.get('keypoints', ())) != 51:
            raise ValueError(f'{source}: annotation id {ann.get("id")} has '
                             f'{len(ann.get("keypoints", ()))} keypoint values, expected 51 '
                             '(17 COCO keypoints x [x, y, v])')
    converted = coco_to_h36m_keypoints(
        np.array([ann['keypoints'] for ann in anns], dtype=np.float64).reshape(-1, 17, 3))
    out['annotations'] = []
    for ann, kpts in zip(anns, converted):
        flat = [c for x, y, v in kpts.tolist() for c in (x, y, int(v))]
        out['annotations'].append(
            dict(copy.deepcopy(ann), keypoints=flat, num_keypoints=int((kpts[:, 2] > 0).sum())))
    return out
