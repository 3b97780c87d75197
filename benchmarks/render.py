# Copyright (c) cpn_mm authors. All rights reserved.
"""The benchmark's one renderer: the sections' data (:mod:`benchmarks.sections`) as markdown
tables. Formatting only; every number is computed by the sections."""
from typing import Callable, Dict, List, Optional, Sequence


def _table(title: str, header: Sequence[str], align: str, rows: List[List[str]]) -> str:
    lines = [f'**{title}**', '', '| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---:' if a == 'r' else '---' for a in align) + '|']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'


def _ratio(value: Optional[float], fmt: str = '{:.2f}') -> str:
    return 'n/a' if value is None else fmt.format(value)


def _modules(t: dict) -> str:
    return _table(
        f'Modules (medians of {t["repeats"]}+ repeats)',
        ['what', 'cpn_mm', 'MMPose', 'cpn_mm (ms)', 'MMPose (ms)', 'speed-up'], 'lllrrr',
        [[r['what'], r['ours'], r['theirs'], f'{r["ours_ms"]:.3f}', f'{r["theirs_ms"]:.3f}',
          f'{r["speedup"]:.1f}x'] for r in t['rows']])


def _train(t: dict) -> str:
    base = t['baseline']
    rows = []
    for r in t['rows']:
        gm = f'{r["gmac"]:.2f}'
        if abs(r['gmac_straightforward'] - r['gmac']) >= 5e-3:
            gm += f' ({r["gmac_straightforward"]:.2f} straightforward)'
        rows.append([r['model'], r['implementation'], r['precision'], gm, f'{r["step_s"]:.3f}',
                     _ratio(r['bf16_speedup'], '{:.2f}x'), f'{r["step_ratio"]:.2f}',
                     f'{r["gmac_ratio"]:.2f}', f'{r["step_per_gmac_ratio"]:.2f}',
                     _ratio(r['peak_rss_mib'], '{:.0f}')])
    return _table(
        f'Training step, B={t["batch"]}, 256x192, {t["memory_format"]}, {t["threads"]} threads '
        f'(medians of {t["repeats"]})',
        ['model', 'implementation', 'precision', 'GMAC / crop', 'step (s)', 'bf16 speed-up',
         f'step / {base}', f'GMAC / {base}', 'step ratio / GMAC ratio',
         'peak RSS of a step (MiB)'], 'lllrrrrrrr', rows)


def _infer(t: dict) -> str:
    base = t['baseline']
    rows = [[r['model'], r['implementation'], r['backend'], r['precision'],
             f'{r["crops_per_s"]:.1f}', f'{r["batch_ms"]:.0f}',
             _ratio(r['speedup_vs_fp32'], '{:.2f}x'), _ratio(r['cost_ratio']),
             f'{r["gmac"]:.2f}', f'{r["gmac_ratio"]:.2f}', f'{r["decoding_ms"]:.1f}',
             f'{100 * r["decoding_share"]:.1f}%'] for r in t['rows']]
    return _table(
        f'Inference with flip test, B={t["batch"]}, 256x192, {t["memory_format"]}, '
        f'{t["threads"]} threads (medians of {t["repeats"]})',
        ['model', 'implementation', 'backend', 'precision', 'crops/s', 'batch (ms)',
         'speed-up vs PyTorch fp32', f'time per crop / {base}', 'GMAC / crop',
         f'GMAC / {base}', 'decoding (ms)', 'decoding / rest of predict'], 'llllrrrrrrrr', rows)


def _share(value) -> str:
    return '-' if value is None else f'{100 * value:.0f}%'


def _paths(t: dict) -> str:
    rows = []
    for r in t['rows']:
        if 'crops_per_s' not in r:
            rows.append([r['path'], str(r['batch'])] + ['-'] * 6 + [r['note']])
            continue
        note = '' if r['compile_s'] is None else f'compiled in {r["compile_s"]:.0f} s'
        rows.append([r['path'], str(r['batch']), f'{r["crops_per_s"]:.1f}',
                     f'{r["batch_ms"]:.0f}', f'{r["speedup_vs_fp32"]:.2f}x',
                     f'{r["achieved_gmacs"]:.0f}', _share(r['share_of_peak']),
                     _share(r.get('share_of_isa')), note])
    gemms = '; '.join(f'{p}: ' + ', '.join(f'{v["gmacs"]:.0f} ({v["by"]})' for v in rates)
                      for p, rates in t.get('gemm_rates', {}).items() if rates)
    isa = '; '.join(f'{p} {v["gmacs"]:.0f} GMAC/s = {v["by"]}'
                    for p, v in t.get('isa_peaks', {}).items()) or 'unknown for this CPU'
    caps = ', '.join(t['openvino_capabilities']) or 'openvino not installed'
    title = (f'CPU inference paths, {t["model"]} 256x192 with flip test, {t["memory_format"]}, '
             f'{t["threads"]} threads (medians of {t["repeats"]}; '
             f'{t["gmac_per_crop"]:.2f} GMAC per crop and pass, x2 for the flip)')
    table = _table(title, ['path', 'B', 'crops/s', 'batch (ms)', 'speed-up vs PyTorch fp32',
                           'achieved GMAC/s', 'of the best GEMM peak', 'of the ISA peak',
                           'note'], 'lrrrrrrrl', rows)
    return (f'{table}\nGEMM peak, measured (n=2048 square, same threads; GMAC/s, fastest '
            f'first): {gemms}.\nISA peak, theoretical: {isa}.\nOpenVINO CPU '
            f'capabilities: {caps}. int8 calibration: {t["calibration_crops"]} sample crops '
            f'and their flips, {t["quantize_s"]:.0f} s.\n')


def _data(t: dict) -> str:
    return _table(
        f'Training data pipeline (LoadImage .. PackPoseInputs), data/coco_sample '
        f'({t["samples"]} persons), 1 process (medians of {t["repeats"]} passes)',
        ['pipeline', 'GenerateTarget', 'samples/s', 'ms / sample', 'speed-up'], 'llrrr',
        [[r['pipeline'], r['targets'], f'{r["samples_per_s"]:.0f}',
          f'{1e3 / r["samples_per_s"]:.2f}', f'{r["speedup"]:.2f}x'] for r in t['rows']])


RENDERERS: Dict[str, Callable[[dict], str]] = {
    'modules': _modules, 'train': _train, 'infer': _infer, 'paths': _paths, 'data': _data}


def render(results: dict) -> str:
    """The machine line and every table of ``results`` (:func:`benchmarks.run.run`)."""
    m = results['machine']
    bf16 = f'native bfloat16: {m["bf16_support"]}' if m['bf16_support'] != 'none' else \
        'no native bfloat16 (emulated: bf16 is slower than fp32 here)'
    isa = ', '.join(m.get('matrix_isa') or []) or 'none'
    family = f', CPU family {m["cpu_family"]} model {m["cpu_model"]}' if 'cpu_family' in m else ''
    head = (f'Machine: {m["cpu"]} ({m["arch"]}{family}), {bf16}, matrix extensions: {isa}, '
            f'{m["torch_threads"]} torch threads, '
            f'{m["opencv_threads"]} OpenCV threads, torch {m["torch"]}, malloc: {m["malloc"]}, '
            f'{"quick" if results["settings"]["quick"] else "full"} run, medians of the repeats '
            f'given per table ({results["seconds"]:.0f} s)')
    return '\n'.join(['', head, ''] + [RENDERERS[t['kind']](t) for t in results['tables']])
