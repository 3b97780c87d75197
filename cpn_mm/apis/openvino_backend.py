# Copyright (c) cpn_mm authors. All rights reserved.
"""OpenVINO (CPU) as an inference backend, reading the verified ONNX export.

OpenVINO reads the file of :func:`cpn_mm.apis.export_onnx` (float32) or of
:func:`cpn_mm.apis.quantize_onnx` (int8 QuantizeLinear/DequantizeLinear pairs, which OpenVINO
runs as int8 convolutions) and compiles it for the CPU with an inference-precision hint:

- ``'f32'``: everything in float32 (the PyTorch float32 keypoints, to rounding);
- ``'bf16'``: convolutions in bfloat16 (AMX or AVX512-BF16); an error where the CPU has none;
- ``'int8'``: the quantized file's convolutions in int8 (AMX-INT8 / AVX512-VNNI), the rest in
  OpenVINO's default precision; the file must be quantized;
- ``'default'``: OpenVINO's own choice (bfloat16 where the CPU has AMX, float32 elsewhere).

``openvino`` is an optional dependency: ``pip install -e .[openvino]``.
"""
import os.path as osp
from typing import List, Optional

import torch
from torch import Tensor, nn

from .backend import HeatmapBackend
from .deploy import check_graph_io
from .inference import InputError, check_file

#: precision name -> OpenVINO's ``INFERENCE_PRECISION_HINT`` (``None``: OpenVINO's default)
PRECISIONS = {'f32': 'f32', 'bf16': 'bf16', 'int8': None, 'default': None}
ALIASES = {'fp32': 'f32', 'float32': 'f32', 'bfloat16': 'bf16'}


def require_openvino() -> None:
    """Raise :class:`InputError` with an installation hint if ``openvino`` is missing."""
    try:
        import openvino  # noqa: F401
    except ImportError as e:
        raise InputError('`backend` openvino: openvino is not installed; install it with '
                         '`pip install -e .[openvino]` (see requirements/openvino.txt)') from e


def openvino_available() -> bool:
    """Whether ``openvino`` can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def parse_precision(precision: Optional[str], name: str = 'precision') -> str:
    """A key of :data:`PRECISIONS` (``None`` -> ``'default'``); aliases ``fp32``,
    ``float32``, ``bfloat16`` accepted. Raises :class:`InputError` naming ``name``."""
    if precision is None:
        return 'default'
    key = ALIASES.get(str(precision).lower(), str(precision).lower())
    if key not in PRECISIONS:
        raise InputError(f'`{name}` must be one of {list(PRECISIONS)}, got {precision!r}')
    return key


def is_quantized(onnx_file: str) -> bool:
    """Whether an ONNX file holds int8 quantization (QuantizeLinear nodes)."""
    import onnx
    graph = onnx.load(onnx_file, load_external_data=False).graph
    return any(n.op_type in ('QuantizeLinear', 'QLinearConv') for n in graph.node)


def cpu_capabilities() -> List[str]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of the CPU (e.g. ``['FP32', 'BF16', 'INT8',
    ...]``)."""
    require_openvino()
    import openvino as ov
    return list(ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))


class OpenVINOBackend(HeatmapBackend):
    """Runs a top-down model's heatmaps through OpenVINO on the CPU; the rest is the model's
    (:class:`cpn_mm.apis.backend.HeatmapBackend`: flip test and decoding as in PyTorch).

    Args:
        onnx_file (str): From :func:`cpn_mm.apis.export_onnx` (for ``'f32'``, ``'bf16'``,
            ``'default'``) or :func:`cpn_mm.apis.quantize_onnx` (``'int8'``)
        model (nn.Module): The PyTorch model it was exported from (config, preprocessor, codec)
        precision (str): ``'f32'``, ``'bf16'``, ``'int8'`` or ``'default'`` (see the module)
        threads (int, optional): ``INFERENCE_NUM_THREADS``; ``None``: OpenVINO's default (all
            cores)

    Attributes:
        inference_precision (str): The precision OpenVINO compiled for (its
            ``INFERENCE_PRECISION_HINT`` after compilation, e.g. ``'f32'`` or ``'bf16'``)
    """

    name = 'openvino'

    def __init__(self, onnx_file: str, model: nn.Module, precision: str = 'default',
                 threads: Optional[int] = None) -> None:
        super().__init__(model)
        require_openvino()
        check_file(onnx_file, 'onnx_file')
        self.precision = parse_precision(precision)
        quantized = is_quantized(onnx_file)
        if self.precision == 'int8' and not quantized:
            raise InputError(f'`precision` int8 needs a quantized model: `onnx_file` '
                             f'{onnx_file!r} has no int8 quantization; make one with '
                             'tools/quantize.py (cpn_mm.apis.quantize_onnx)')
        if self.precision != 'int8' and quantized:
            raise InputError(f'`onnx_file` {onnx_file!r} is quantized (int8): use `precision` '
                             f"'int8', or the float32 export for {self.precision!r}")
        import openvino as ov
        core = ov.Core()
        caps = list(core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))
        if self.precision == 'bf16' and 'BF16' not in caps:
            raise InputError(f'`precision` bf16: this CPU has no bfloat16 support in OpenVINO '
                             f'(its capabilities: {caps}); use f32 or int8')
        try:
            ov_model = core.read_model(onnx_file)
        except Exception as e:  # OpenVINO raises RuntimeError subclasses of its own
            raise InputError(f'`onnx_file` {onnx_file!r} is not a readable ONNX model: {e}') \
                from e
        check_graph_io(onnx_file,
                       {i.get_any_name(): [str(d) for d in i.get_partial_shape()]
                        for i in ov_model.inputs},
                       [n for o in ov_model.outputs for n in o.get_names()], model)
        config = {'PERFORMANCE_HINT': 'LATENCY'}
        if PRECISIONS[self.precision] is not None:
            config['INFERENCE_PRECISION_HINT'] = PRECISIONS[self.precision]
        if threads is not None:
            config['INFERENCE_NUM_THREADS'] = int(threads)
        self.compiled = core.compile_model(ov_model, 'CPU', config)
        self.inference_precision = self.compiled.get_property(
            'INFERENCE_PRECISION_HINT').to_string()
        self.request = self.compiled.create_infer_request()
        self.onnx_file = onnx_file

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) float32 of preprocessed crops (B, 3, h, w)."""
        out = self.request.infer({'input': self.as_numpy(inputs)})
        return torch.from_numpy(out['heatmaps'].copy())

    def __repr__(self) -> str:
        return (f'OpenVINOBackend({osp.basename(self.onnx_file)!r}, precision='
                f'{self.precision!r}, compiled for {self.inference_precision})')


__all__ = ['OpenVINOBackend', 'require_openvino', 'openvino_available', 'parse_precision',
           'is_quantized', 'cpu_capabilities', 'PRECISIONS']
