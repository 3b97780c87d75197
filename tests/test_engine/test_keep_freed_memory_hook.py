# Copyright (c) cpn_mm authors. All rights reserved.
"""KeepFreedMemoryHook / keep_freed_memory: after a real runner's training with the hook, memory
freed by the process stays mapped for reuse; before it (glibc's defaults) glibc returns it. Run
in a process of its own (the setting is process-wide and cannot be undone)."""
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

def released_mib():
    block = torch.ones(64 * 2**20)  # 256 MiB, written
    before = rss_mib()
    del block
    return before - rss_mib()

print('released_mib_without_hook', released_mib())
cfg = sample_cfg(sys.argv[1], 1, custom_hooks=[dict(type='KeepFreedMemoryHook')],
                 val_cfg=None, val_dataloader=None, val_evaluator=None)
Runner.from_cfg(cfg).train()
print('released_mib_with_hook', released_mib())
'''


@pytest.mark.e2e
def test_keep_freed_memory_hook_through_the_runner(tmp_path):
    proc = subprocess.run([sys.executable, '-c', SCRIPT, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    released = {line.split()[0]: float(line.split()[1]) for line in proc.stdout.splitlines()
                if line.startswith('released_mib')}
    # glibc's default: unmapped at once
    assert released['released_mib_without_hook'] > 200, proc.stdout[-2000:]
    # with the hook: kept for the next allocation
    assert released['released_mib_with_hook'] < 16, proc.stdout[-2000:]
    assert 'glibc keeps freed memory' in proc.stdout + proc.stderr


def test_keep_freed_memory_rejects_negative_pad():
    from cpn_mm.utils import keep_freed_memory
    with pytest.raises(ValueError, match='top_pad_mib'):
        keep_freed_memory(-1)
