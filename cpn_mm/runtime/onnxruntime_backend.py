# Copyright (c) cpn_mm authors. All rights reserved.
"""ONNX Runtime (CPU) as an inference backend, reading the export or its int8 file.

``test_cfg.dtype`` does not apply: the graph's precision is the file's (float32 from
:func:`cpn_mm.runtime.export_onnx`, int8 from :func:`cpn_mm.runtime.quantize_onnx`).
"""
from typing import Optional, Union

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from cpn_mm.utils.errors import InputError
from .base import HeatmapBackend
from .export import MAKE_EXPORT, check_onnx_file, default_export_path, export_onnx
from .requirements import require_onnx
from .rules import resolve_runtime


@MODELS.register_module()
class OnnxRuntimeBackend(HeatmapBackend):
    """Runs a top-down model's heatmaps through ONNX Runtime (CPU); the rest is the model's
    (:class:`cpn_mm.runtime.HeatmapBackend`: flip test and decoding as in PyTorch).

    Args:
        onnx_file (str, optional): From :func:`cpn_mm.runtime.export_onnx` or
            :func:`cpn_mm.runtime.quantize_onnx` (input ``input``, output ``heatmaps``);
            ``None``: the model is exported to ``<work_dir>/<config name>.onnx`` at the first
            call (after a runner has loaded its checkpoint)
        model (nn.Module | dict): The PyTorch model it was exported from (config,
            preprocessor, codec), or its config
        threads (int, optional): ONNX Runtime's intra-op threads; ``None``: its default
        precision (str, optional): ``'f32'`` or ``'int8'``, checked against the file;
            ``None``: the file's
        work_dir (str): Where an export goes
    """

    name = 'onnxruntime'

    def __init__(self, onnx_file: Optional[str], model: Union[nn.Module, dict],
                 threads: Optional[int] = None, precision: Optional[str] = None,
                 work_dir: str = 'work_dirs/deploy') -> None:
        super().__init__(model)
        require_onnx(export=False)
        self.precision = resolve_runtime('onnxruntime', precision, onnx_file).precision
        self.threads = threads
        self.work_dir = work_dir
        self.onnx_file = onnx_file
        self.session = None
        if onnx_file is not None:
            self._load(onnx_file)

    def _load(self, onnx_file: str) -> None:
        check_onnx_file(onnx_file, self.model)
        import onnxruntime as ort
        options = ort.SessionOptions()
        if self.threads is not None:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(onnx_file, options,
                                                providers=['CPUExecutionProvider'])
        except Exception as e:  # onnxruntime raises its own exception types
            raise InputError(f'`onnx_file` {onnx_file!r} is not a loadable ONNX model: {e}; '
                             f'{MAKE_EXPORT}') from e
        self.onnx_file = onnx_file

    @property
    def runtime_name(self) -> str:
        return f'onnxruntime ({self.precision})'

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) float32 of preprocessed crops (B, 3, h, w)."""
        if self.session is None:
            self._load(export_onnx(self.model, default_export_path(self.model, self.work_dir)))
        x = self.as_numpy(inputs)
        return torch.from_numpy(self.session.run(['heatmaps'], {'input': x})[0])


__all__ = ['OnnxRuntimeBackend']
