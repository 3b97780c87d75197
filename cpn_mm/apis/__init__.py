# Copyright (c) cpn_mm authors. All rights reserved.
"""What a user of cpn_mm calls beyond MMPose: a model from a config and a checkpoint (inference
precision included), crops of person boxes, COCO evaluation of any inference path, parameters
and FLOPs, the cascade picture, the demo, 2D-to-3D lifting and the 2D files lifters train on.

Inference is MMPose's: ``mmpose.apis.inference_topdown(runtime, img, bboxes)`` with a model
from :func:`init_model`, or with what :func:`build_runtime` returns (the model, or an
ONNX Runtime / OpenVINO / ``torch.compile`` backend around it). The runtimes live in
:mod:`cpn_mm.runtime`; their public names are handed on here, where users have imported them
(``cpn_mm.apis.build_runtime``, ``cpn_mm.apis.OpenVINOBackend``, ...).
"""
from cpn_mm.runtime import (OnnxRuntimeBackend, OpenVINOBackend, build_runtime, compile_model,
                            export_onnx, quantize_onnx, verify_onnx)
from cpn_mm.utils.errors import InputError
from .complexity import complexity, config_complexity
from .demo import run_demo
from .inference import (calibration_crops, init_model, prepare_crops, sample_crops,
                        set_inference_dtype)
from .lifting import init_lifter, keypoint_conversion, lift, run_demo_3d
from .lifting_formats import export_2d_for_lifting
from .pose_track import PoseTracker

__all__ = [
    'init_model', 'set_inference_dtype', 'prepare_crops', 'sample_crops', 'export_onnx',
    'verify_onnx', 'OnnxRuntimeBackend', 'OpenVINOBackend', 'calibration_crops',
    'quantize_onnx', 'compile_model', 'build_runtime', 'complexity', 'config_complexity',
    'run_demo', 'InputError', 'run_demo_3d', 'init_lifter', 'keypoint_conversion', 'lift',
    'export_2d_for_lifting', 'PoseTracker'
]
