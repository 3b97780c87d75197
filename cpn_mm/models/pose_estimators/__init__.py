# Copyright (c) cpn_mm authors. All rights reserved.
from .mixed_precision_topdown import MixedPrecisionTopdownPoseEstimator, set_inference_dtype

__all__ = ['MixedPrecisionTopdownPoseEstimator', 'set_inference_dtype']
