# Copyright (c) cpn_mm authors. All rights reserved.
"""The ``paths`` section: CPN-R50 through every CPU inference path, against the limits of each
precision (:mod:`benchmarks.peaks`): the best measured GEMM of the providers present, and the
ISA's theoretical rate.

Paths: PyTorch eager fp32/bf16 (``test_cfg.dtype``), ``torch.compile`` fp32/bf16
(:func:`cpn_mm.runtime.compile_model`), ONNX Runtime fp32/int8 and OpenVINO f32/bf16/int8
(:func:`cpn_mm.runtime.build_runtime`; int8 calibrated by :func:`cpn_mm.runtime.quantize_onnx`
on the person crops of data/coco_sample). Every path runs the same ``test_step`` batch (data
preprocessor, flip test, decoding) at B=1 (one person in a video frame: latency) and B=32
(throughput), interleaved, in a process that keeps glibc's freed memory (``--malloc keep``,
what ``tools/test.py`` and ``tools/demo.py`` set too). A path's achieved multiply-adds per
second are the crops per second times the multiply-adds of one crop's forward times 2 (the
flip test), which counts the convolutions as GEMMs (im2col).
"""
import os.path as osp
import tempfile
import time
from typing import Dict, List, Tuple

import numpy as np
import torch

from .contenders import CONTENDERS, REPO, build, gmacs, make_batch, to_memory_format
from .peaks import gemm_rates, isa_peaks

SAMPLE_ANN = osp.join(REPO, 'data', 'coco_sample', 'test_coco.json')
# path name -> (backend, precision, compile); the precision names the limits it is held against
PATHS = {
    'PyTorch eager fp32': ('pytorch', 'f32', False),
    'PyTorch eager bf16': ('pytorch', 'bf16', False),
    'PyTorch compiled fp32': ('pytorch', 'f32', True),
    'PyTorch compiled bf16': ('pytorch', 'bf16', True),
    'ONNX Runtime fp32': ('onnxruntime', 'f32', False),
    'ONNX Runtime int8': ('onnxruntime', 'int8', False),
    'OpenVINO f32': ('openvino', 'f32', False),
    'OpenVINO bf16': ('openvino', 'bf16', False),
    'OpenVINO int8': ('openvino', 'int8', False),
}


def _prepare(s, tmp: str) -> dict:
    """CPN-R50 (eval, the memory format ``s`` asks for), its float32 export and its int8 file
    calibrated on the sample's person crops."""
    from mmengine.config import Config

    from cpn_mm.apis import calibration_crops
    from cpn_mm.runtime import export_onnx, quantize_onnx
    fmt = s.memory_formats[0]
    cpn = CONTENDERS[0]
    cfg, model = build(cpn, fmt)
    model.eval()
    model.cfg = Config.fromfile(cpn.config)  # the test pipeline, for the calibration crops
    model.dataset_meta = dict(flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13,
                                            16, 15])
    fp32_onnx = export_onnx(to_memory_format(model, 'contiguous'), osp.join(tmp, 'cpn_r50.onnx'))
    to_memory_format(model, fmt)
    t0 = time.perf_counter()
    crops = calibration_crops(model, SAMPLE_ANN)
    int8_onnx = quantize_onnx(fp32_onnx, osp.join(tmp, 'cpn_r50_int8.onnx'), crops)['out']
    return dict(cpn=cpn, fmt=fmt, cfg=cfg, model=model, fp32_onnx=fp32_onnx,
                int8_onnx=int8_onnx, quantize_s=time.perf_counter() - t0,
                calibration_crops=int(crops.shape[0]), gmac=gmacs(model, cfg, training=False)[0])


def _runtimes(s, p: dict) -> Tuple[Dict[str, torch.nn.Module], Dict[str, str], List[str]]:
    """The runtime of every path of :data:`PATHS` that runs here (:func:`build_runtime`, as a
    user gets it), the reasons of those that do not, and OpenVINO's CPU capabilities."""
    from cpn_mm.runtime import build_runtime, compile_model, cpu_capabilities, openvino_available
    have_ov = openvino_available()
    caps = cpu_capabilities() if have_ov else []
    runtimes, notes = {}, {}
    for name, (backend, prec, comp) in PATHS.items():
        if backend == 'openvino' and not have_ov:
            notes[name] = 'openvino not installed'
        elif backend == 'openvino' and prec == 'bf16' and 'BF16' not in caps:
            notes[name] = 'no bfloat16 in OpenVINO on this CPU'
        elif comp and not s.compile:
            notes[name] = 'not run (--quick or --no-compile: compilation takes minutes)'
        elif backend == 'pytorch':
            model = p['model']
            m = build(p['cpn'], p['fmt'])[1].eval() if comp else model
            m.load_state_dict(model.state_dict())
            m.cfg, m.dataset_meta = model.cfg, model.dataset_meta
            m.test_cfg['dtype'] = 'bfloat16' if prec == 'bf16' else 'float32'
            runtimes[name] = compile_model(m) if comp else m
        else:
            onnx_file = p['int8_onnx'] if prec == 'int8' else p['fp32_onnx']
            runtimes[name] = build_runtime(p['model'], backend, prec, onnx_file,
                                           threads=s.threads)
    return runtimes, notes, caps


def _time(s, runtimes: dict, data: dict) -> Tuple[Dict[tuple, List[float]], Dict[str, float]]:
    """Seconds of every (path, batch size), interleaved, after a warm-up (compilation,
    OpenVINO's shape-specific kernels), and the compilation seconds of the compiled paths."""
    from cpn_mm.runtime import compile_seconds

    # the model's precision is per runtime: PyTorch eager shares one model, switch per call
    dtypes = {n: ('bfloat16' if PATHS[n][1] == 'bf16' else 'float32') for n in runtimes}

    def step(name, batch):
        r = runtimes[name]
        if PATHS[name][0] == 'pytorch':
            r.test_cfg['dtype'] = dtypes[name]
        with torch.no_grad():
            r.test_step(batch)

    compile_s = {}
    for name in runtimes:
        for b in data:
            step(name, data[b])
            if PATHS[name][2]:
                compile_s[name] = compile_seconds(runtimes[name])
    times: Dict[tuple, List[float]] = {(n, b): [] for n in runtimes for b in data}
    for _ in range(s.infer_repeats):
        for b in data:
            for name in runtimes:
                t0 = time.perf_counter()
                step(name, data[b])
                times[name, b].append(time.perf_counter() - t0)
    return times, compile_s


def _row(name: str, b: int, times: dict, gmac: float, limits: dict, compile_s: dict) -> dict:
    backend, prec, _ = PATHS[name]
    sec = float(np.median(times[name, b]))
    ref = float(np.median(times['PyTorch eager fp32', b]))
    crops_s = b / sec
    achieved = crops_s * 2 * gmac
    gemm = limits['peaks'].get(prec, {}).get('gmacs')
    isa = limits['isa_peaks'].get(prec, {}).get('gmacs')
    return dict(
        path=name, backend=backend, precision=prec, batch=b, crops_per_s=crops_s,
        batch_ms=sec * 1e3, speedup_vs_fp32=ref / sec, achieved_gmacs=achieved,
        peak_gmacs=gemm, share_of_peak=None if gemm is None else achieved / gemm,
        isa_gmacs=isa, share_of_isa=None if isa is None else achieved / isa,
        compile_s=compile_s.get(name), note='')


def bench_paths(s) -> List[dict]:
    """CPN-R50 through every path of :data:`PATHS` at B=1 and ``s.infer_batch``; see the
    module. Compilation and the int8 calibration are done before timing (their times are
    reported)."""
    with tempfile.TemporaryDirectory(prefix='cpn_paths_') as tmp:
        p = _prepare(s, tmp)
        runtimes, notes, caps = _runtimes(s, p)
        batches = (1, s.infer_batch) if s.infer_batch > 1 else (1, )
        times, compile_s = _time(s, runtimes, {b: make_batch(p['cfg'], b) for b in batches})
    rates = gemm_rates(s.threads, repeats=3 if s.quick else 5, n=512 if s.quick else 2048)
    limits = dict(gemm_rates=rates, peaks={k: v[0] for k, v in rates.items() if v},
                  isa_peaks=isa_peaks(s.threads, rates))
    rows = [dict(path=name, batch=b, note=notes.get(name, '')) if name not in runtimes else
            _row(name, b, times, p['gmac'], limits, compile_s)
            for name in PATHS for b in batches]
    return [dict(kind='paths', model=p['cpn'].name, memory_format=p['fmt'], threads=s.threads,
                 repeats=s.infer_repeats, gmac_per_crop=p['gmac'], quantize_s=p['quantize_s'],
                 calibration_crops=p['calibration_crops'], openvino_capabilities=caps,
                 rows=rows, **limits)]
