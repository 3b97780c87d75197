# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/analysis/get_flops.py and the FLOP counter it shares with the benchmark
(cpn_mm.apis.complexity)."""
from cpn_mm.apis import complexity, config_complexity, init_model
from cpn_mm.testing import StraightforwardGlobalNet, StraightforwardRefineHead
from ..helpers import SAMPLE_CONFIG, tool_main


def test_get_flops_cli():
    proc = tool_main('analysis/get_flops.py', SAMPLE_CONFIG, '--input-shape', '192', '144',
                    '--markdown')
    rows = [line for line in proc.stdout.splitlines() if line.startswith('| cpn_r18')]
    assert len(rows) == 1 and '| 192x144 |' in rows[0]


def test_get_flops_numbers():
    r = config_complexity(SAMPLE_CONFIG, (192, 144))
    # ResNet-18 without its classifier: 11,689,512 - (512 * 1000 + 1000) parameters
    assert r['params']['backbone'] == 11_176_512
    assert r['params']['total'] == sum(r['params'][p] for p in ('backbone', 'neck', 'head'))
    assert r['flops']['total'] == sum(r['flops'][p] for p in ('backbone', 'neck', 'head'))
    # ResNet-18's convolutions, 1.81 GMACs at 224 x 224, scale with the pixel count (plus
    # BN, counted by MMEngine)
    expected = 1.8136e9 * 192 * 144 / 224**2
    assert expected < r['flops']['backbone'] < 1.05 * expected
    assert all(r['flops'][p] > 0 for p in ('neck', 'head'))


def test_straightforward_forward_counts_more_flops():
    """The straightforward tf-cpn order (cpn_mm.testing) executes more multiply-adds in the
    neck and head than the optimised forward, with the same backbone and parameters."""
    model = init_model(SAMPLE_CONFIG)
    fast = complexity(model, (192, 144))
    ref = complexity(model, (192, 144), parts=dict(neck=StraightforwardGlobalNet(model.neck),
                                                   head=StraightforwardRefineHead(model.head)))
    assert ref['flops']['backbone'] == fast['flops']['backbone']
    assert ref['flops']['neck'] > fast['flops']['neck']
    assert ref['flops']['head'] > fast['flops']['head']
    assert ref['params'] == fast['params']
