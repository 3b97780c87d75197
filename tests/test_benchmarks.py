# Copyright (c) cpn_mm authors. All rights reserved.
"""benchmarks/run.py --quick runs and prints every table, with fp32 and bf16 rows for every
contender and CPN through ONNX Runtime. Speed ratios are not asserted: they depend on the
machine and its load (the measured figures are in benchmarks/README.md)."""
import os.path as osp
import subprocess
import sys

from .helpers import REPO

MODELS = ('CPN-R50', 'SimpleBaseline-R50', 'MSPN-50 (1 stage)')


def test_benchmark_quick_prints_all_tables():
    proc = subprocess.run(
        [sys.executable, osp.join('benchmarks', 'run.py'), '--quick', '--threads', '2'],
        cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert 'torch threads' in out and 'quick run' in out
    assert 'bfloat16' in out  # the CPU's bfloat16 support is reported
    assert 'malloc: freed memory kept' in out  # --malloc keep, the default, took effect
    lines = out.splitlines()
    for title in ('**Modules', '**Training step, B=2, 256x192, channels_last',
                  '**Inference with flip test', '**Training data pipeline'):
        assert any(line.startswith(title) for line in lines), (title, out)

    def rows(first_cell):
        return [line.split(' | ') for line in lines if line.startswith(f'| {first_cell} |')]

    assert len(rows('targets per instance (K=17, 64x48)')) == 1
    assert len(rows('OHKM loss fwd+bwd (B=64, K=17, 64x48)')) == 1
    for model in MODELS:
        found = rows(model)
        train = [r for r in found if len(r) == 10]
        infer = [r for r in found if len(r) == 9]
        assert sorted(r[2] for r in train) == ['bf16', 'fp32'], found
        assert sorted((r[2], r[3]) for r in infer if r[2] == 'PyTorch') == \
            [('PyTorch', 'bf16'), ('PyTorch', 'fp32')], found
        # fp32 is the reference of the speed-up columns
        assert [r[5] for r in train if r[2] == 'fp32'] == ['1.00x']
        assert [r[6] for r in infer if r[3] == 'fp32' and r[2] == 'PyTorch'] == ['1.00x']
    assert [(r[2], r[3]) for r in rows('CPN-R50') if len(r) == 9 and r[2] == 'ONNX Runtime'] \
        == [('ONNX Runtime', 'fp32')]
    # the baseline's own ratios are 1
    for r in rows('SimpleBaseline-R50'):
        if len(r) == 10:
            assert r[6:9] == ['1.00', '1.00', '1.00'], r
    assert len(rows('cpn_mm (config train_pipeline)')) == 1
    assert len(rows('MMPose MSPN targets')) == 1
