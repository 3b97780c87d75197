# Copyright (c) cpn_mm authors. All rights reserved.
"""What a user of cpn_mm calls beyond MMPose: a model from a config and a checkpoint (inference
precision included), crops of person boxes, the inference paths (ONNX export with a parity
check, ONNX Runtime and OpenVINO backends, int8 quantization, ``torch.compile``), parameters
and FLOPs, the demo.

Inference is MMPose's: ``mmpose.apis.inference_topdown(runtime, img, bboxes)`` with a model
from :func:`init_model`, or with what :func:`build_runtime` returns (the model, compiled or
not, or an :class:`OnnxRuntimeBackend` / :class:`OpenVINOBackend` in the model's place). The
helpers the tools share (boxes, COCO files, results) are in :mod:`cpn_mm.apis.inference`,
:mod:`cpn_mm.apis.demo` and :mod:`cpn_mm.apis.visualization`.
"""
from .compile import compile_model
from .complexity import complexity, config_complexity
from .demo import run_demo
from .deploy import OnnxRuntimeBackend, export_onnx, verify_onnx
from .inference import InputError, init_model, prepare_crops, sample_crops, set_inference_dtype
from .openvino_backend import OpenVINOBackend
from .quantize import calibration_crops, quantize_onnx
from .runtime import build_runtime

__all__ = [
    'init_model', 'set_inference_dtype', 'prepare_crops', 'sample_crops', 'export_onnx',
    'verify_onnx', 'OnnxRuntimeBackend', 'OpenVINOBackend', 'calibration_crops',
    'quantize_onnx', 'compile_model', 'build_runtime', 'complexity', 'config_complexity',
    'run_demo', 'InputError'
]
