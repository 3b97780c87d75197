# Copyright (c) cpn_mm authors. All rights reserved.
"""KeepFreedMemoryHook / keep_freed_memory: after a real runner's training with the hook, memory
freed by the process stays mapped for reuse; without it glibc returns it. Each case runs in its
own process (the setting is process-wide and cannot be undone)."""
import subprocess
import sys

import pytest

from ..helpers import REPO

SCRIPT = r'''
import sys
import torch
from mmengine.runner import Runner
import cpn_mm  # noqa: F401
from tests.helpers import sample_cfg

def rss_mib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * 4096 / 2**20

hooks = [dict(type='KeepFreedMemoryHook')] if sys.argv[1] == 'hook' else []
cfg = sample_cfg(sys.argv[2], 1, custom_hooks=hooks, val_cfg=None, val_dataloader=None,
                 val_evaluator=None)
Runner.from_cfg(cfg).train()
block = torch.ones(64 * 2**20)  # 256 MiB, written
before = rss_mib()
del block
print('released_mib', before - rss_mib())
'''


@pytest.mark.parametrize('hook', ['hook', 'none'])
def test_keep_freed_memory_hook_through_the_runner(hook, tmp_path):
    proc = subprocess.run([sys.executable, '-c', SCRIPT, hook, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    released = float(proc.stdout.split('released_mib')[-1])
    if hook == 'hook':
        assert released < 16, proc.stdout[-2000:]  # kept for the next allocation
        assert 'glibc keeps freed memory' in proc.stdout + proc.stderr
    else:
        assert released > 200, proc.stdout[-2000:]  # glibc's default: unmapped at once


def test_keep_freed_memory_rejects_negative_pad():
    from cpn_mm.utils import keep_freed_memory
    with pytest.raises(ValueError, match='top_pad_mib'):
        keep_freed_memory(-1)
