# Copyright (c) cpn_mm authors. All rights reserved.
from .cpn_coco_dataset import CPNCocoDataset

__all__ = ['CPNCocoDataset']
