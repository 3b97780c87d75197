# Copyright (c) cpn_mm authors. All rights reserved.
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from cpn_mm.utils import keep_freed_memory


@HOOKS.register_module()
class KeepFreedMemoryHook(Hook):
    """Makes glibc keep freed memory for reuse, for training on the CPU.

    Calls :func:`cpn_mm.utils.malloc.keep_freed_memory` before the run, so that each training
    step reuses the previous step's activation memory instead of page-faulting fresh ``mmap``
    blocks (``benchmarks/run.py --malloc`` measures the effect). The process keeps its peak
    resident memory. No effect on the maths, on GPU memory, or where the C library is not glibc.

    Args:
        top_pad_mib (int): Extra memory requested from the system each time the heap grows.
            Defaults to 64.

    Example::

        custom_hooks = [dict(type='KeepFreedMemoryHook')]
    """

    priority = 'VERY_HIGH'

    def __init__(self, top_pad_mib: int = 64) -> None:
        self.top_pad_mib = top_pad_mib
        self.applied = False

    def before_run(self, runner) -> None:
        self.applied = keep_freed_memory(self.top_pad_mib)
        runner.logger.info('KeepFreedMemoryHook: glibc keeps freed memory' if self.applied else
                           'KeepFreedMemoryHook: not glibc, nothing changed')
