# Copyright (c) cpn_mm authors. All rights reserved.
"""Floating-point precision of a forward: names, autocast, the CPU's bfloat16 support.

bfloat16 keeps float32's exponent range (no loss scaling needed) with an 8-bit mantissa.
Current server CPUs multiply it natively at twice the float32 rate: Intel Sapphire Rapids and
later (AMX) and AMD Zen 4 and later (AVX512-BF16). Elsewhere oneDNN emulates it, which is
slower than float32.
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch

from .errors import InputError

#: The one table of precision names: canonical name -> the torch dtype PyTorch runs it in
#: (``None``: an inference runtime's precision only: ``int8`` from a quantized ONNX file,
#: ``default`` = OpenVINO's own choice). The canonical names are OpenVINO's
#: ``INFERENCE_PRECISION_HINT`` values too.
PRECISIONS = {
    'f32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16,
    'int8': None, 'default': None,
}
#: other accepted names -> canonical name
ALIASES = {'fp32': 'f32', 'float32': 'f32', 'bfloat16': 'bf16', 'float16': 'fp16'}


def parse_precision(precision: Union[str, torch.dtype], name: str = 'precision') -> str:
    """The canonical name (a key of :data:`PRECISIONS`) of a precision name, an alias
    (``fp32``, ``float32``, ``bfloat16``, ``float16``) or a torch dtype.

    Raises:
        InputError: naming the argument ``name`` and the accepted values.
    """
    if isinstance(precision, torch.dtype):
        for key, dtype in PRECISIONS.items():
            if dtype == precision:
                return key
    elif isinstance(precision, str):
        key = ALIASES.get(precision.lower(), precision.lower())
        if key in PRECISIONS:
            return key
    raise InputError(f'`{name}` must be one of {list(PRECISIONS)}, got {precision!r}')


def parse_dtype(dtype: Union[None, str, torch.dtype], name: str = 'dtype') -> torch.dtype:
    """``torch.float32`` for ``None``; the torch dtype of a precision name (:data:`PRECISIONS`,
    :data:`ALIASES`) or of a torch dtype otherwise.

    Raises:
        InputError: (a ``ValueError``) naming the argument ``name`` and the accepted values.
    """
    if dtype is None:
        return torch.float32
    accepted = sorted(k for k, v in list(PRECISIONS.items()) + [
        (a, PRECISIONS[c]) for a, c in ALIASES.items()] if v is not None)
    try:
        key = parse_precision(dtype, name)
    except InputError:
        key = None
    if key is None or PRECISIONS[key] is None:
        raise InputError(f'`{name}` must be one of {accepted} (or None for float32), '
                         f'got {dtype!r}')
    return PRECISIONS[key]


def dtype_name(dtype: torch.dtype) -> str:
    """``'float32'``, ``'bfloat16'``, ``'float16'``: a dtype as ``test_cfg.dtype`` writes it."""
    return str(dtype).replace('torch.', '')


def _cpuinfo_flags() -> set:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_bf16_support() -> str:
    """How this CPU multiplies bfloat16: ``'AMX'``, ``'AVX512-BF16'`` (native, about twice the
    float32 rate) or ``'none'`` (emulated by oneDNN: slower than float32).

    The one probe of the package (PyTorch's warning, the runtimes' choice of bf16): torch's
    own probes where torch has them (``torch.cpu._is_amx_tile_supported``,
    ``torch.cpu._is_avx512_bf16_supported``, torch >= 2.3), else the CPU flags the kernel
    reports (``amx_bf16``, ``avx512_bf16`` in ``/proc/cpuinfo``): torch 2.1 has no probe, and
    ``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` also answers yes for AVX512 without
    BF16 (emulated).
    """
    cpu = getattr(torch, 'cpu', None)
    if cpu is not None and hasattr(cpu, '_is_avx512_bf16_supported'):
        if getattr(cpu, '_is_amx_tile_supported', lambda: False)():
            return 'AMX'
        return 'AVX512-BF16' if cpu._is_avx512_bf16_supported() else 'none'
    flags = _cpuinfo_flags()
    if 'amx_bf16' in flags:
        return 'AMX'
    return 'AVX512-BF16' if 'avx512_bf16' in flags else 'none'


def check_autocast(device_type: str, dtype: torch.dtype) -> None:
    """Raise ``ValueError`` for a precision this device cannot autocast to."""
    if device_type == 'cpu' and dtype == torch.float16:
        raise ValueError('float16 autocast is not supported on the CPU here: use '
                         "dtype='bfloat16' (same speed-up, float32's range, no loss scaling)")
    if device_type not in ('cpu', 'cuda') and dtype != torch.float32:
        raise ValueError(f'reduced precision ({dtype}) is supported on cpu and cuda devices, '
                         f'got device type {device_type!r}')


@contextmanager
def autocast(device_type: str, dtype: Union[None, str, torch.dtype]) -> Iterator[None]:
    """``torch.autocast(device_type, dtype)``, or nothing for float32.

    Inside, convolutions and matrix products run in ``dtype`` (their outputs are in ``dtype``);
    see :func:`to_float32` for what leaves the region.
    """
    dtype = parse_dtype(dtype)
    if dtype == torch.float32:
        yield
        return
    check_autocast(device_type, dtype)
    with torch.autocast(device_type=device_type, dtype=dtype):
        yield


def to_float32(x):
    """Floating tensors (also inside tuples and lists) cast to float32; the rest unchanged.
    A float32 tensor is returned as is (no copy, no graph node)."""
    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() and x.dtype != torch.float32 else x
    if isinstance(x, (tuple, list)):
        return type(x)(to_float32(v) for v in x)
    return x


def precision_note(dtype: torch.dtype, device_type: str = 'cpu') -> Optional[str]:
    """A one-line warning when ``dtype`` is bfloat16 on a CPU without native bfloat16, else
    ``None``."""
    if dtype == torch.bfloat16 and device_type == 'cpu' and cpu_bf16_support() == 'none':
        return ('this CPU has no native bfloat16 (neither AVX512-BF16 nor AMX): oneDNN emulates '
                'it, so bfloat16 runs slower than float32 here, not faster')
    return None
