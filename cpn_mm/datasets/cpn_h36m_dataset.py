# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

import numpy as np
from mmpose.registry import DATASETS

from .cpn_coco_dataset import CPNCocoDataset


@DATASETS.register_module()
class CPNH36mDataset(CPNCocoDataset):
    """Human3.6M 2D keypoints in COCO's annotation format, for CPN (top-down).

    The 17 joints are Human3.6M's in the order and with the metainfo (names, flip pairs, upper
    and lower body, skeleton) of MMPose's ``configs/_base_/datasets/h36m.py``: root (pelvis),
    right hip/knee/foot, left hip/knee/foot, spine, thorax, neck base, head, left
    shoulder/elbow/wrist, right shoulder/elbow/wrist. The files are COCO keypoint JSON with
    these 17 joints per annotation, as MMPose's ``tools/dataset_converters/h36m_to_coco.py``
    writes from the preprocessed Human3.6M (``preprocess_h36m.py``), or as
    ``tools/dataset_converters/coco_to_h36m.py`` writes from COCO annotations (the stand-in
    ``data/coco_sample/h36m_standin.json``).

    Keypoints are ``[x, y]`` in image pixels; everything else is :class:`CPNCocoDataset`'s,
    including the training visibility layout (1, K, 2): channel 0 ``min(1, v)`` (labelled),
    channel 1 the flag GlobalNet trains on (visible).

    MMPose's Human3.6M metainfo has no OKS sigmas, so COCO's AP does not apply; MMPose 0.x's
    ``TopDownH36MDataset`` was evaluated with PCK (threshold 0.05 of the box size) and EPE
    (``PCKAccuracy``, ``EPE``), and the configs do the same.

    Args:
        occlusion_labels (bool): whether the file's flags say which joints are occluded. True
            (default): COCO's flags, ``v = 2`` visible, ``v = 1`` labelled but occluded (the
            stand-in converted from COCO). False: the flags only say "labelled", and every
            labelled joint counts as visible for GlobalNet: Human3.6M's motion-capture joints
            carry no occlusion label and ``h36m_to_coco.py`` writes ``v = 1`` for all of them.
            A training file with labelled joints but no ``v = 2`` at all is refused with
            ``occlusion_labels=True``, since GlobalNet would get no target.
        **kwargs: as :class:`mmpose.datasets.CocoDataset`.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/h36m.py')

    def __init__(self, *args, occlusion_labels: bool = True, **kwargs):
        if not isinstance(occlusion_labels, bool):
            raise TypeError(f'occlusion_labels: expected True or False, got {occlusion_labels!r}')
        self.occlusion_labels = occlusion_labels
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        data_info = super().parse_data_info(raw_data_info)
        if data_info is not None and not self.test_mode and not self.occlusion_labels:
            data_info['keypoints_visible'][..., 1] = data_info['keypoints_visible'][..., 0]
        return data_info

    def load_data_list(self) -> list:
        data_list = super().load_data_list()
        if self.test_mode or not self.occlusion_labels or not data_list:
            return data_list
        flags = np.concatenate([d['keypoints_visible'] for d in data_list], axis=1)
        if flags[..., 0].any() and not flags[..., 1].any():
            raise ValueError(
                f'{self.ann_file}: no keypoint has the visible flag v = 2, so GlobalNet would '
                f'train on no target; for files whose flags only mean "labelled" (v = 1, e.g. '
                'Human3.6M written by h36m_to_coco.py) set occlusion_labels=False')
        return data_list
