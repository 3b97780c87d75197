# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/analysis/get_flops.py on one config."""
import os.path as osp
import subprocess
import sys

from ..conftest import REPO, SAMPLE_CONFIG
from ._helpers import load_tool


def test_get_flops_cli():
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'analysis', 'get_flops.py'), SAMPLE_CONFIG,
         '--input-shape', '192', '144', '--markdown'],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [l for l in proc.stdout.splitlines() if l.startswith('| cpn_r18')]
    assert len(rows) == 1 and '| 192x144 |' in rows[0]


def test_get_flops_numbers():
    tool = load_tool('analysis/get_flops.py')
    r = tool.complexity(SAMPLE_CONFIG, (192, 144))
    # ResNet-18 without its classifier: 11,689,512 - (512 * 1000 + 1000) parameters
    assert r['params']['backbone'] == 11_176_512
    assert r['params']['total'] == sum(r['params'][p] for p in ('backbone', 'neck', 'head'))
    assert r['flops']['total'] == sum(r['flops'][p] for p in ('backbone', 'neck', 'head'))
    # ResNet-18's convolutions, 1.81 GMACs at 224 x 224, scale with the pixel count (plus
    # BN, counted by MMEngine)
    expected = 1.8136e9 * 192 * 144 / 224**2
    assert expected < r['flops']['backbone'] < 1.05 * expected
    assert all(r['flops'][p] > 0 for p in ('neck', 'head'))
