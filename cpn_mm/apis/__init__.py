# Copyright (c) cpn_mm authors. All rights reserved.
"""What a user of cpn_mm calls beyond MMPose: a model from a config and a checkpoint (inference
precision included), crops of person boxes, ONNX export with a parity check and the ONNX
Runtime backend, parameters and FLOPs, the demo.

Inference is MMPose's: ``mmpose.apis.inference_topdown(model, img, bboxes)`` with a model from
:func:`init_model`, or with an :class:`OnnxRuntimeBackend` in the model's place. The helpers the
tools share (boxes, COCO files, results) are in :mod:`cpn_mm.apis.inference`,
:mod:`cpn_mm.apis.demo` and :mod:`cpn_mm.apis.visualization`.
"""
from .complexity import complexity, config_complexity
from .demo import run_demo
from .deploy import OnnxRuntimeBackend, export_onnx, verify_onnx
from .inference import InputError, init_model, prepare_crops, sample_crops, set_inference_dtype

__all__ = [
    'init_model', 'set_inference_dtype', 'prepare_crops', 'sample_crops', 'export_onnx',
    'verify_onnx', 'OnnxRuntimeBackend', 'complexity', 'config_complexity', 'run_demo',
    'InputError'
]
