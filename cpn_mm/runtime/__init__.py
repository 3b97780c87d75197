# Copyright (c) cpn_mm authors. All rights reserved.
"""The inference runtimes: CPN's heatmaps through ONNX Runtime, OpenVINO or ``torch.compile``,
each an MMEngine ``BaseModel`` around the PyTorch pose model (as MMDeploy's ``End2EndModel``),
so MMEngine's test loop and ``mmpose.apis.inference_topdown`` run it as they run the model.

- :mod:`~cpn_mm.runtime.base`: :class:`HeatmapBackend`, what every backend shares (data
  preprocessor, flip test, decoding: the model's);
- one module per backend: :mod:`~cpn_mm.runtime.onnxruntime_backend`,
  :mod:`~cpn_mm.runtime.openvino_backend`, :mod:`~cpn_mm.runtime.compiled_backend`;
- :mod:`~cpn_mm.runtime.export`: the ONNX graph, and the one check of every ONNX file read;
- :mod:`~cpn_mm.runtime.quantize`: int8 calibration; :mod:`~cpn_mm.runtime.verify`: agreement
  with PyTorch float32;
- :mod:`~cpn_mm.runtime.rules`: which backend runs which precision from which file, decided
  in :func:`resolve_runtime`;
- :mod:`~cpn_mm.runtime.builder`: :func:`build_runtime` (a built model),
  :func:`runtime_config` (a runner's model config).

``import cpn_mm`` registers the backends in MMPose's ``MODELS``; ``onnxruntime`` and
``openvino`` are imported only when a backend of theirs is built.
"""
from .base import HeatmapBackend
from .builder import build_runtime, runtime_config, runtime_name
from .compiled_backend import TorchCompileBackend, compile_model, compile_seconds
from .export import HeatmapModule, check_onnx_file, export_onnx, is_quantized
from .onnxruntime_backend import OnnxRuntimeBackend
from .openvino_backend import OpenVINOBackend, cpu_capabilities
from .quantize import CALIBRATION_METHODS, quantize_onnx
from .requirements import openvino_available, require_onnx, require_openvino
from .rules import BACKENDS, RuntimeChoice, resolve_runtime
from .verify import keypoint_agreement, verify_onnx

__all__ = [
    'HeatmapBackend', 'OnnxRuntimeBackend', 'OpenVINOBackend', 'TorchCompileBackend',
    'build_runtime', 'runtime_config', 'runtime_name', 'compile_model', 'compile_seconds',
    'HeatmapModule', 'export_onnx', 'check_onnx_file', 'is_quantized', 'quantize_onnx',
    'CALIBRATION_METHODS', 'BACKENDS', 'RuntimeChoice', 'resolve_runtime', 'require_onnx',
    'require_openvino', 'openvino_available', 'cpu_capabilities', 'keypoint_agreement',
    'verify_onnx'
]
