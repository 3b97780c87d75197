# Copyright (c) cpn_mm authors. All rights reserved.
"""benchmarks/run.py --quick (the README's "Speed" command) runs and prints every table.
Speed ratios are not asserted: they depend on the machine and its load."""
import os.path as osp
import subprocess
import sys

from .conftest import REPO


def test_benchmark_quick_prints_all_tables():
    proc = subprocess.run(
        [sys.executable, osp.join('benchmarks', 'run.py'), '--quick', '--threads', '2'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert 'torch threads' in out and 'quick run' in out
    assert 'malloc: freed memory kept' in out  # --malloc keep, the default, took effect
    lines = out.splitlines()
    for title in ('**Modules', '**Training step, B=2, 256x192, channels_last',
                  '**Inference with flip test', '**Training data pipeline'):
        assert any(line.startswith(title) for line in lines), (title, out)

    def rows(first_cell):
        return [line for line in lines if line.startswith(f'| {first_cell} |')]

    assert len(rows('targets per instance (K=17, 64x48)')) == 1
    assert len(rows('OHKM loss fwd+bwd (B=64, K=17, 64x48)')) == 1
    for model in ('CPN-R50', 'SimpleBaseline-R50', 'MSPN-50 (1 stage)'):
        train, infer = rows(model)  # one row in the training and one in the inference table
        assert len(train.split('|')) == 10 and len(infer.split('|')) == 8
    # the baseline's own ratios are 1
    assert '| 1.00 | 1.00 | 1.00 |' in rows('SimpleBaseline-R50')[0]
    assert len(rows('cpn_mm (config train_pipeline)')) == 1
    assert len(rows('MMPose MSPN targets')) == 1
