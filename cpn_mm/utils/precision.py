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

# accepted names -> dtype
DTYPES = {
    'float32': torch.float32, 'fp32': torch.float32,
    'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16,
    'float16': torch.float16, 'fp16': torch.float16,
}
# short names for tables and logs
SHORT_NAMES = {torch.float32: 'fp32', torch.bfloat16: 'bf16', torch.float16: 'fp16'}


def parse_dtype(dtype: Union[None, str, torch.dtype], name: str = 'dtype') -> torch.dtype:
    """``torch.float32`` for ``None``; a name of :data:`DTYPES` or a torch dtype otherwise.

    Raises:
        ValueError: naming the argument ``name`` and the accepted values.
    """
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype) and dtype in SHORT_NAMES:
        return dtype
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return DTYPES[dtype.lower()]
    raise ValueError(f'`{name}` must be one of {sorted(set(DTYPES))} (or None for float32), '
                     f'got {dtype!r}')


def cpu_bf16_support() -> str:
    """How this CPU multiplies bfloat16: ``'AMX'``, ``'AVX512-BF16'`` (native, about twice the
    float32 rate) or ``'none'`` (emulated by oneDNN: slower than float32)."""
    cpu = getattr(torch, 'cpu', None)
    if cpu is not None and getattr(cpu, '_is_amx_tile_supported', lambda: False)():
        return 'AMX'
    if cpu is not None and getattr(cpu, '_is_avx512_bf16_supported', lambda: False)():
        return 'AVX512-BF16'
    return 'none'


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
