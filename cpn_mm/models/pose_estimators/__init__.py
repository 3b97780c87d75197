# Copyright (c) cpn_mm authors. All rights reserved.
from .mixed_precision_topdown import MixedPrecisionTopdownPoseEstimator

__all__ = ['MixedPrecisionTopdownPoseEstimator']
