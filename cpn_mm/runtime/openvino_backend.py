# Copyright (c) cpn_mm authors. All rights reserved.
"""OpenVINO (CPU) as an inference backend, reading the checked ONNX export.

OpenVINO reads the file of :func:`cpn_mm.runtime.export_onnx` (float32) or of
:func:`cpn_mm.runtime.quantize_onnx` (int8 QuantizeLinear/DequantizeLinear pairs, which
OpenVINO runs as int8 convolutions) and compiles it for the CPU with an inference-precision
hint (the precision's name, :data:`cpn_mm.utils.precision.PRECISIONS`):

- ``'f32'``: everything in float32 (the PyTorch float32 keypoints, to rounding);
- ``'bf16'``: convolutions in bfloat16 (AMX or AVX512-BF16); an error where the CPU has none;
- ``'int8'``: the quantized file's convolutions in int8 (AMX-INT8 / AVX512-VNNI), the rest in
  OpenVINO's default precision; the file must be quantized;
- ``'default'``: OpenVINO's own choice (bfloat16 where the CPU has AMX, float32 elsewhere).

Which precision goes with which file is :func:`cpn_mm.runtime.resolve_runtime`'s rule.
``openvino`` is an optional dependency: ``pip install -e .[openvino]``.
"""
import os.path as osp
from typing import List, Optional, Union

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from cpn_mm.utils.errors import InputError
from .base import HeatmapBackend
from .export import MAKE_EXPORT, check_onnx_file, default_export_path, export_onnx
from .requirements import require_openvino
from .rules import resolve_runtime

#: precisions OpenVINO is given as ``INFERENCE_PRECISION_HINT`` (the others: its default)
HINTED = ('f32', 'bf16')


def cpu_capabilities() -> List[str]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of the CPU (e.g. ``['FP32', 'BF16', 'INT8',
    ...]``): what OpenVINO compiles for, beside :func:`cpn_mm.utils.precision.cpu_bf16_support`
    (what the CPU multiplies)."""
    require_openvino()
    import openvino as ov
    return list(ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))


@MODELS.register_module()
class OpenVINOBackend(HeatmapBackend):
    """Runs a top-down model's heatmaps through OpenVINO on the CPU; the rest is the model's
    (:class:`cpn_mm.runtime.HeatmapBackend`: flip test and decoding as in PyTorch).

    Args:
        onnx_file (str, optional): From :func:`cpn_mm.runtime.export_onnx` (for ``'f32'``,
            ``'bf16'``, ``'default'``) or :func:`cpn_mm.runtime.quantize_onnx` (``'int8'``);
            ``None``: the model is exported to ``<work_dir>/<config name>.onnx`` at the first
            call (after a runner has loaded its checkpoint)
        model (nn.Module | dict): The PyTorch model it was exported from (config,
            preprocessor, codec), or its config
        precision (str, optional): ``'f32'``, ``'bf16'``, ``'int8'`` or ``'default'`` (see the
            module); ``None``: the best for this CPU and file
        threads (int, optional): ``INFERENCE_NUM_THREADS``; ``None``: OpenVINO's default (all
            cores)
        work_dir (str): Where an export goes

    Attributes:
        inference_precision (str): The precision OpenVINO compiled for (its
            ``INFERENCE_PRECISION_HINT`` after compilation, e.g. ``'f32'`` or ``'bf16'``;
            ``None`` before the first call when the model is exported then)
    """

    name = 'openvino'

    def __init__(self, onnx_file: Optional[str], model: Union[nn.Module, dict],
                 precision: Optional[str] = 'default', threads: Optional[int] = None,
                 work_dir: str = 'work_dirs/deploy') -> None:
        super().__init__(model)
        self.precision = resolve_runtime('openvino', precision, onnx_file).precision
        self.threads = threads
        self.work_dir = work_dir
        self.onnx_file = onnx_file
        self.inference_precision: Optional[str] = None
        self.request = None
        if onnx_file is not None:
            self._load(onnx_file)

    def _load(self, onnx_file: str) -> None:
        check_onnx_file(onnx_file, self.model)
        import openvino as ov
        core = ov.Core()
        try:
            ov_model = core.read_model(onnx_file)
        except Exception as e:  # OpenVINO raises RuntimeError subclasses of its own
            raise InputError(f'`onnx_file` {onnx_file!r} is not a readable ONNX model: {e}; '
                             f'{MAKE_EXPORT}') from e
        config = {'PERFORMANCE_HINT': 'LATENCY'}
        if self.precision in HINTED:
            config['INFERENCE_PRECISION_HINT'] = self.precision
        if self.threads is not None:
            config['INFERENCE_NUM_THREADS'] = int(self.threads)
        compiled = core.compile_model(ov_model, 'CPU', config)
        self.inference_precision = compiled.get_property('INFERENCE_PRECISION_HINT').to_string()
        self.request = compiled.create_infer_request()
        self.onnx_file = onnx_file

    @property
    def runtime_name(self) -> str:
        return f'openvino ({self.precision}, compiled for {self.inference_precision})'

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) float32 of preprocessed crops (B, 3, h, w)."""
        if self.request is None:
            self._load(export_onnx(self.model, default_export_path(self.model, self.work_dir)))
        out = self.request.infer({'input': self.as_numpy(inputs)})
        return torch.from_numpy(out['heatmaps'].copy())

    def extra_repr(self) -> str:
        return (f'{osp.basename(self.onnx_file or "(exported at the first call)")!r}, '
                f'precision={self.precision!r}, compiled for {self.inference_precision}')


__all__ = ['OpenVINOBackend', 'cpu_capabilities']
