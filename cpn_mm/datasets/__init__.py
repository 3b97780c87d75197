# Copyright (c) cpn_mm authors. All rights reserved.
from .coco_to_h36m import coco_to_h36m_annotations, coco_to_h36m_keypoints
from .cpn_coco_dataset import CPNCocoDataset
from .cpn_h36m_dataset import CPNH36mDataset

__all__ = [
    'CPNCocoDataset', 'CPNH36mDataset', 'coco_to_h36m_annotations', 'coco_to_h36m_keypoints'
]
