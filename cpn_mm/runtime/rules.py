# Copyright (c) cpn_mm authors. All rights reserved.
"""Which runtime runs which precision from which file: the rules, decided in one function.

:func:`resolve_runtime` is the one place that ties backend, precision, the ONNX file (float32
or quantized), ``torch.compile`` and the device together; :func:`cpn_mm.runtime.build_runtime`,
:func:`cpn_mm.runtime.runtime_config`, every backend's constructor, the demo and the tools
call it, so that each rule (and its message) exists once. ``backend='auto'`` picks the fastest
path installed for the device (``benchmarks/README.md``, "CPU inference paths"): on the CPU
OpenVINO where ``openvino`` is installed (int8 for a quantized file, else bfloat16 where the CPU
multiplies it natively, else float32), else ONNX Runtime for int8, else PyTorch; on a GPU
PyTorch.
"""
from typing import NamedTuple, Optional, Union

import torch

from cpn_mm.utils.errors import InputError
from cpn_mm.utils.precision import PRECISIONS, cpu_bf16_support, parse_dtype, parse_precision
from .export import is_quantized
from .requirements import openvino_available, require_openvino

BACKENDS = ('auto', 'pytorch', 'onnxruntime', 'openvino')
#: precisions each backend runs (PyTorch's fp16: CUDA autocast)
BACKEND_PRECISIONS = {
    'pytorch': ('f32', 'bf16', 'fp16'),
    'onnxruntime': ('f32', 'int8'),
    'openvino': ('f32', 'bf16', 'int8', 'default'),
}


class RuntimeChoice(NamedTuple):
    """What :func:`resolve_runtime` decided.

    Attributes:
        backend (str): ``'pytorch'``, ``'onnxruntime'`` or ``'openvino'`` (never ``'auto'``)
        precision (str | None): A key of :data:`cpn_mm.utils.precision.PRECISIONS`; ``None``
            for PyTorch: the config's ``test_cfg.dtype``
        compile (bool): ``torch.compile`` the PyTorch model
    """
    backend: str
    precision: Optional[str]
    compile: bool = False


def _dtype_precision(dtype: Union[str, torch.dtype], backend: str,
                     precision: Optional[str]) -> Optional[str]:
    """The precision that PyTorch's ``dtype`` (the demo's older option) stands for."""
    parsed = parse_dtype(dtype, 'dtype')
    if backend not in ('pytorch', 'auto'):
        if parsed != torch.float32:
            raise InputError(f'`backend` {backend!r} runs its own graph: `dtype` {dtype!r} '
                             'does not apply (use `precision`)')
        return precision
    name = parse_precision(parsed, 'dtype')
    if precision is not None and parse_precision(precision) != name:
        raise InputError(f'`dtype` {dtype!r} and `precision` {precision!r} disagree: give one')
    return name


def _auto_backend(device: str, quantized: bool, precision: Optional[str]) -> str:
    if not device.startswith('cpu'):
        return 'pytorch'
    if openvino_available():
        return 'openvino'
    if quantized or precision == 'int8':
        return 'onnxruntime'
    return 'pytorch'


def _check_file_precision(backend: str, precision: str, onnx_file: Optional[str],
                          quantized: bool) -> None:
    if precision == 'int8' and onnx_file is None:
        raise InputError('`precision` int8 needs a quantized model: `onnx_file` is not given; '
                         'make one with tools/quantize.py (cpn_mm.runtime.quantize_onnx)')
    if precision == 'int8' and not quantized:
        raise InputError(f'`precision` int8 needs a quantized model: `onnx_file` '
                         f'{onnx_file!r} has no int8 quantization; make one with '
                         'tools/quantize.py (cpn_mm.runtime.quantize_onnx)')
    if precision != 'int8' and quantized:
        raise InputError(f'`onnx_file` {onnx_file!r} is quantized (int8): use `precision` '
                         f"'int8', or the float32 export for {precision!r} "
                         '(tools/export_onnx.py)')


def resolve_runtime(backend: str = 'auto', precision: Optional[str] = None,
                    onnx_file: Optional[str] = None, device: str = 'cpu',
                    compile: bool = False, dtype: Union[None, str, torch.dtype] = None
                    ) -> RuntimeChoice:
    """The runtime that the arguments ask for, or an :class:`InputError` naming the argument.

    Args:
        backend (str): One of :data:`BACKENDS`
        precision (str, optional): A name of :data:`cpn_mm.utils.precision.PRECISIONS` (or an
            alias); ``None``: the backend's best (see the module)
        onnx_file (str, optional): The ONNX file given (checked by
            :func:`cpn_mm.runtime.check_onnx_file`; a quantized one selects int8)
        device (str): The model's device
        compile (bool): ``torch.compile`` (PyTorch only)
        dtype (str | torch.dtype, optional): PyTorch's precision by its older name
            (``'float32'``, ``'bfloat16'``, ``'float16'``): the backend ``'pytorch'`` at that
            precision; float32 is ignored by the other backends

    Returns:
        RuntimeChoice: backend, precision, compile.
    """
    if backend not in BACKENDS:
        raise InputError(f'`backend` must be one of {list(BACKENDS)}, got {backend!r}')
    if dtype is not None:
        precision = _dtype_precision(dtype, backend, precision)
        if backend == 'auto' and precision is not None:
            backend = 'pytorch'
    if precision is not None:
        precision = parse_precision(precision)
    quantized = onnx_file is not None and is_quantized(onnx_file)
    if backend == 'auto':
        backend = _auto_backend(device, quantized, precision)
    if backend != 'pytorch' and not device.startswith('cpu'):
        raise InputError(f'`backend` {backend!r} runs on the CPU; `device` is {device!r} (use '
                         "backend 'pytorch' there)")
    if compile and backend != 'pytorch':
        raise InputError(f'`compile` applies to the PyTorch backend, not {backend!r}')
    if backend == 'pytorch':
        if onnx_file is not None:
            raise InputError("`onnx_file` is read by backend 'onnxruntime' or 'openvino', not "
                             "'pytorch'")
        if precision is not None and precision not in BACKEND_PRECISIONS['pytorch']:
            raise InputError(f"`precision` {precision!r} needs backend 'onnxruntime' or "
                             "'openvino'; PyTorch runs 'f32' or 'bf16'")
        return RuntimeChoice('pytorch', precision, compile)
    if backend == 'openvino':
        require_openvino()
    if precision is None:
        precision = 'int8' if quantized else (
            'bf16' if backend == 'openvino' and cpu_bf16_support() != 'none' else 'f32')
    if precision not in BACKEND_PRECISIONS[backend]:
        raise InputError(f'`precision` {precision!r}: backend {backend!r} runs '
                         f'{list(BACKEND_PRECISIONS[backend])} (int8: a quantized file)')
    if backend == 'openvino' and precision == 'bf16' and cpu_bf16_support() == 'none':
        raise InputError('`precision` bf16: this CPU has no native bfloat16 (neither '
                         'AVX512-BF16 nor AMX); use f32 or int8')
    _check_file_precision(backend, precision, onnx_file, quantized)
    return RuntimeChoice(backend, precision, False)


__all__ = ['BACKENDS', 'BACKEND_PRECISIONS', 'PRECISIONS', 'RuntimeChoice', 'resolve_runtime']
