# Copyright (c) cpn_mm authors. All rights reserved.
"""Keep freed memory in the process's heap (glibc) for CPU training.

By default glibc serves every allocation above 32 MiB with a fresh ``mmap`` and gives it back on
``free``; a training step on the CPU allocates its activations anew each time, so every step
page-faults (and the kernel zeroes) all of them again: a cost that grows with the activation
memory, not with the arithmetic. Keeping freed memory in the heap lets the next step reuse it;
the resident memory then stays at the step's peak. ``benchmarks/run.py --malloc`` measures it.
"""
import ctypes
import ctypes.util
import sys

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4


def _glibc_function(name: str):
    """The C library's function ``name`` through ctypes, or ``None`` where it has none (not
    Linux, or not glibc)."""
    if not sys.platform.startswith('linux'):
        return None
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6'), name)
    except (OSError, AttributeError):
        return None


def keep_freed_memory(top_pad_mib: int = 64) -> bool:
    """Tell glibc's malloc to serve large blocks from the heap and never return freed memory.

    Calls ``mallopt(M_MMAP_MAX, 0)``, ``mallopt(M_TRIM_THRESHOLD, 2**31 - 1)`` and
    ``mallopt(M_TOP_PAD, top_pad_mib MiB)`` for the current process (the equivalent of the
    environment variables ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...``, set while running).
    Allocations made before the call are unaffected.

    Args:
        top_pad_mib (int): Extra memory requested from the system each time the heap grows.

    Returns:
        bool: ``True`` if applied; ``False`` where the C library is not glibc (macOS, Windows,
        musl), where nothing is changed.
    """
    if top_pad_mib < 0:
        raise ValueError(f'`top_pad_mib` must be >= 0, got {top_pad_mib}')
    mallopt = _glibc_function('mallopt')
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(M_MMAP_MAX, 0) == 1
    # M_TRIM_THRESHOLD takes an int: the largest positive value means "never trim"
    ok &= mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    ok &= mallopt(M_TOP_PAD, top_pad_mib << 20) == 1
    return bool(ok)


def release_freed_memory() -> bool:
    """Hand the heap's free memory back to the system now (glibc ``malloc_trim(0)``), e.g.
    before measuring a peak resident size.

    Returns:
        bool: ``True`` if called; ``False`` where the C library is not glibc.
    """
    malloc_trim = _glibc_function('malloc_trim')
    if malloc_trim is None:
        return False
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    malloc_trim(0)
    return True
