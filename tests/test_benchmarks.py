# Copyright (c) cpn_mm authors. All rights reserved.
"""benchmarks/run.py --quick (in this process) runs every section; the data it returns
(``--json``) has fp32 and bf16 rows for every contender, CPN before and after skipping the
GlobalNet heatmaps at inference, and CPN through ONNX Runtime. Speed ratios are not asserted
(they depend on the machine and its load; the measured figures are in benchmarks/README.md);
what must hold whatever the machine is."""
import os.path as osp

import pytest
from mmengine import load

from .helpers import script_main

pytestmark = pytest.mark.e2e

MODELS = ('CPN-R50', 'SimpleBaseline-R50', 'MSPN-50 (1 stage)')


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    """``python benchmarks/run.py --quick --threads 1 --json FILE`` in this process (the
    threads are the session's again afterwards)."""
    import cv2
    import torch
    out = str(tmp_path_factory.mktemp('bench') / 'results.json')
    threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    try:
        proc = script_main(osp.join('benchmarks', 'run.py'), '--quick', '--threads', '1',
                           '--json', out)
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv2_threads)
    return load(out), proc.stdout


def _table(results, kind):
    tables = [t for t in results['tables'] if t['kind'] == kind]
    assert len(tables) == 1, kind
    return tables[0]


def test_machine_and_settings(quick_run):
    results, printed = quick_run
    m = results['machine']
    assert m['torch_threads'] == 1 and m['bf16_support'] in ('AMX', 'AVX512-BF16', 'none')
    assert m['malloc'].startswith('freed memory kept')  # --malloc keep, the default
    assert results['settings']['quick'] is True
    assert [t['kind'] for t in results['tables']] == ['modules', 'train', 'infer', 'paths',
                                                      'data']
    assert set(m['matrix_isa']) <= {'amx_bf16', 'amx_int8', 'amx_tile', 'avx512_bf16',
                                    'avx512_vnni', 'avx_vnni'}
    # the renderer printed what the data hold
    assert 'quick run' in printed and '**Inference with flip test' in printed
    assert '**CPU inference paths' in printed and 'GEMM peak' in printed


def test_modules_and_data(quick_run):
    results, _ = quick_run
    modules = _table(results, 'modules')['rows']
    assert [r['ours'] for r in modules] == ['MultiSigmaHeatmap (5 maps)', 'OHKMMaskedMSELoss']
    assert all(r['ours_ms'] > 0 and r['theirs_ms'] > 0 for r in modules)
    data = _table(results, 'data')
    assert data['samples'] == 12 and len(data['rows']) == 2 and data['rows'][1]['speedup'] == 1


def test_training_rows(quick_run):
    results, _ = quick_run
    train = _table(results, 'train')
    assert train['batch'] == 2 and train['memory_format'] == 'channels_last'
    rows = {(r['model'], r['precision']): r for r in train['rows']}
    assert set(rows) == {(m, p) for m in MODELS for p in ('fp32', 'bf16')}
    for m in MODELS:
        assert rows[m, 'fp32']['bf16_speedup'] == 1  # fp32 is the reference
        assert rows[m, 'fp32']['gmac'] == rows[m, 'bf16']['gmac'] > 0
    base = rows['SimpleBaseline-R50', 'fp32']
    assert base['step_ratio'] == base['gmac_ratio'] == 1
    # CPN's training forward runs the GlobalNet heatmaps; the straightforward order costs more
    cpn = rows['CPN-R50', 'fp32']
    assert 6.2 < cpn['gmac'] < 6.4 and cpn['gmac_straightforward'] > cpn['gmac'] + 0.9


def test_inference_rows(quick_run):
    results, _ = quick_run
    infer = _table(results, 'infer')
    rows = {(r['model'], r['backend'], r['precision']): r for r in infer['rows']}
    expected = {(m, 'PyTorch', p) for m in MODELS + ('CPN-R50 (before)', )
                for p in ('fp32', 'bf16')} | {('CPN-R50', 'ONNX Runtime', 'fp32')}
    assert set(rows) == expected
    for (m, backend, p), r in rows.items():
        assert r['crops_per_s'] > 0 and r['decoding_ms'] > 0
        if backend == 'PyTorch' and p == 'fp32':
            assert r['speedup_vs_fp32'] == 1
    assert rows['SimpleBaseline-R50', 'PyTorch', 'fp32']['cost_ratio'] == 1
    # inference skips the GlobalNet heatmaps: fewer GMACs than before (and than training)
    before = rows['CPN-R50 (before)', 'PyTorch', 'fp32']
    after = rows['CPN-R50', 'PyTorch', 'fp32']
    train_cpn = [r for r in _table(results, 'train')['rows'] if r['model'] == 'CPN-R50'][0]
    assert before['gmac'] == pytest.approx(train_cpn['gmac'])
    assert 0.3 < before['gmac'] - after['gmac'] < 0.5
    assert after['gmac_ratio'] < before['gmac_ratio']


def test_inference_paths_rows(quick_run):
    """Every CPU path at B=1 and B=2 (quick): PyTorch eager, ONNX Runtime and OpenVINO measured,
    the compiled rows left out with their reason; achieved multiply-adds against each
    precision's measured GEMM peak."""
    results, _ = quick_run
    paths = _table(results, 'paths')
    assert set(paths['peaks']) == {'f32', 'bf16', 'int8'}
    assert all(v['gmacs'] > 0 for v in paths['peaks'].values())
    # the limits, each named: every GEMM provider present, fastest first, and the ISA's rate,
    # which no measured GEMM exceeds (a limit that is exceeded says nothing)
    for prec, rates in paths['gemm_rates'].items():
        assert [r['gmacs'] for r in rates] == sorted((r['gmacs'] for r in rates), reverse=True)
        assert rates[0] == paths['peaks'][prec] and all(r['by'] for r in rates)
        if prec in paths['isa_peaks']:
            assert rates[0]['gmacs'] <= paths['isa_peaks'][prec]['gmacs'] * (1 + 1e-9)
            assert 'multiply-adds/cycle x' in paths['isa_peaks'][prec]['by']
    assert paths['calibration_crops'] == 12 and 5.8 < paths['gmac_per_crop'] < 5.9
    rows = {(r['path'], r['batch']): r for r in paths['rows']}
    names = ('PyTorch eager fp32', 'PyTorch eager bf16', 'PyTorch compiled fp32',
             'PyTorch compiled bf16', 'ONNX Runtime fp32', 'ONNX Runtime int8', 'OpenVINO f32',
             'OpenVINO bf16', 'OpenVINO int8')
    assert set(rows) == {(n, b) for n in names for b in (1, 2)}
    for (name, b), r in rows.items():
        if 'compiled' in name:
            assert 'crops_per_s' not in r and '--no-compile' in r['note']
            continue
        if name == 'OpenVINO bf16' and 'BF16' not in paths['openvino_capabilities']:
            continue
        assert r['crops_per_s'] > 0 and r['share_of_peak'] > 0
        assert r['share_of_isa'] is None or r['share_of_isa'] > 0
        assert r['achieved_gmacs'] == pytest.approx(r['crops_per_s'] * 2 * paths['gmac_per_crop'])
        if name == 'PyTorch eager fp32':
            assert r['speedup_vs_fp32'] == 1
