# Copyright (c) cpn_mm authors. All rights reserved.
"""The ``paths`` section: CPN-R50 through every CPU inference path, against the machine's
measured matrix-multiply peak per precision.

Paths: PyTorch eager fp32/bf16 (``test_cfg.dtype``), ``torch.compile`` fp32/bf16
(:func:`cpn_mm.apis.compile_model`), ONNX Runtime fp32/int8 and OpenVINO f32/bf16/int8
(:func:`cpn_mm.apis.build_runtime`; int8 calibrated by :func:`cpn_mm.apis.quantize_onnx` on
the person crops of data/coco_sample). Every path runs the same ``test_step`` batch (data
preprocessor, flip test, decoding) at B=1 (one person in a video frame: latency) and B=32
(throughput), interleaved. The peak: square GEMMs (:func:`gemm_peaks`) in the same process
and threads, per precision; a path's achieved multiply-adds per second are the crops per
second times the multiply-adds of one crop's forward times 2 (the flip test), which counts
the convolutions as GEMMs (im2col).
"""
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from .contenders import CONTENDERS, REPO, build, gmacs, make_batch, to_memory_format

SAMPLE_ANN = osp.join(REPO, 'data', 'coco_sample', 'test_coco.json')
# path name -> (backend, precision, compile); the precision names the peak it is held against
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


def _median_time(fn: Callable, repeats: int, min_seconds: float = 0.) -> float:
    times = []
    while len(times) < repeats or sum(times) < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _int8_gemm_ort(n: int, threads: int) -> Optional[Callable]:
    """An ONNX Runtime ``MatMulInteger`` (uint8 x int8 -> int32) of n x n x n, or ``None``."""
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    a = helper.make_tensor_value_info('a', TensorProto.UINT8, [n, n])
    b = helper.make_tensor_value_info('b', TensorProto.INT8, [n, n])
    y = helper.make_tensor_value_info('y', TensorProto.INT32, [n, n])
    graph = helper.make_graph([helper.make_node('MatMulInteger', ['a', 'b'], ['y'])], 'g',
                              [a, b], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    feeds = dict(a=rng.integers(0, 255, (n, n), dtype=np.uint8),
                 b=rng.integers(-127, 127, (n, n), dtype=np.int8))
    return lambda: session.run(None, feeds)


def _int8_gemm_openvino(n: int, threads: int) -> Optional[Callable]:
    """An OpenVINO int8 MatMul (FakeQuantize on both inputs, which its CPU plugin runs as an
    int8 GEMM) of n x n x n, or ``None``."""
    try:
        import openvino as ov
        import openvino.opset13 as ops
    except ImportError:
        return None
    x = ops.parameter([n, n], np.float32, name='x')
    w = ops.constant(np.random.default_rng(0).uniform(-1, 1, (n, n)).astype(np.float32))

    def fq(node, lo, hi, levels=256):
        return ops.fake_quantize(node, np.float32(lo), np.float32(hi), np.float32(lo),
                                 np.float32(hi), levels)

    y = ops.matmul(fq(x, 0, 1), fq(w, -1, 1, 255), False, False)
    compiled = ov.Core().compile_model(ov.Model([y], [x]), 'CPU',
                                       {'INFERENCE_NUM_THREADS': threads,
                                        'PERFORMANCE_HINT': 'LATENCY'})
    request = compiled.create_infer_request()
    data = np.random.default_rng(1).uniform(0, 1, (n, n)).astype(np.float32)
    return lambda: request.infer({0: data})


def gemm_peaks(threads: int, n: int = 2048, repeats: int = 5) -> Dict[str, dict]:
    """Measured multiply-adds per second of an n x n x n matrix product per precision:
    ``f32`` and ``bf16`` by ``torch.mm`` (oneDNN), ``int8`` the best of ONNX Runtime's
    ``MatMulInteger`` and OpenVINO's int8 MatMul. Returns ``{precision: {gmacs, by}}``."""
    torch.set_num_threads(threads)
    out = {}
    for prec, dtype in (('f32', torch.float32), ('bf16', torch.bfloat16)):
        a = torch.randn(n, n).to(dtype)
        b = torch.randn(n, n).to(dtype)
        def fn(a=a, b=b):
            return torch.mm(a, b)

        fn()
        sec = _median_time(fn, repeats, 0.5)
        out[prec] = dict(gmacs=n ** 3 / sec / 1e9, by=f'torch.mm {dtype}'.replace('torch.', ''))
    best = None
    for by, make in (('ONNX Runtime MatMulInteger u8s8', _int8_gemm_ort),
                     ('OpenVINO int8 MatMul', _int8_gemm_openvino)):
        fn = make(n, threads)
        if fn is None:
            continue
        fn()
        rate = n ** 3 / _median_time(fn, repeats, 0.5) / 1e9
        if best is None or rate > best['gmacs']:
            best = dict(gmacs=rate, by=by)
    if best is not None:
        out['int8'] = best
    return out


def bench_paths(s) -> List[dict]:
    """CPN-R50 through every path of :data:`PATHS` at B=1 and ``s.infer_batch``; see the
    module. Compilation and the int8 calibration are done before timing (their times are
    reported)."""
    from mmengine.config import Config

    from cpn_mm.apis import build_runtime, calibration_crops, compile_model, export_onnx
    from cpn_mm.apis.compile import compile_seconds
    from cpn_mm.apis.openvino_backend import cpu_capabilities, openvino_available
    from cpn_mm.apis.quantize import quantize_onnx
    fmt = s.memory_formats[0]
    cpn = CONTENDERS[0]
    cfg, model = build(cpn, fmt)
    model.eval()
    model.cfg = Config.fromfile(cpn.config)  # the test pipeline, for the calibration crops
    model.dataset_meta = dict(flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13,
                                            16, 15])
    gmac = gmacs(model, cfg, training=False)[0]
    tmp = tempfile.TemporaryDirectory(prefix='cpn_paths_')
    fp32_onnx = export_onnx(to_memory_format(model, 'contiguous'),
                            osp.join(tmp.name, 'cpn_r50.onnx'))
    to_memory_format(model, fmt)
    t0 = time.perf_counter()
    crops = calibration_crops(model, SAMPLE_ANN)
    int8_onnx = quantize_onnx(fp32_onnx, osp.join(tmp.name, 'cpn_r50_int8.onnx'),
                              crops)['out']
    quantize_s = time.perf_counter() - t0
    have_ov = openvino_available()
    caps = cpu_capabilities() if have_ov else []
    batches = (1, s.infer_batch) if s.infer_batch > 1 else (1, )
    data = {b: make_batch(cfg, b) for b in batches}
    runtimes, notes = {}, {}
    for name, (backend, prec, comp) in PATHS.items():
        if backend == 'openvino' and not have_ov:
            notes[name] = 'openvino not installed'
            continue
        if backend == 'openvino' and prec == 'bf16' and 'BF16' not in caps:
            notes[name] = 'no bfloat16 in OpenVINO on this CPU'
            continue
        if comp and not s.compile:
            notes[name] = 'not run (--quick or --no-compile: compilation takes minutes)'
            continue
        if backend == 'pytorch':
            m = build(cpn, fmt)[1].eval() if comp else model
            m.load_state_dict(model.state_dict())
            m.cfg, m.dataset_meta = model.cfg, model.dataset_meta
            m.test_cfg['dtype'] = 'bfloat16' if prec == 'bf16' else 'float32'
            runtimes[name] = compile_model(m) if comp else m
        else:
            onnx_file = int8_onnx if prec == 'int8' else fp32_onnx
            runtimes[name] = build_runtime(model, backend, prec, onnx_file, threads=s.threads)
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
        for b in batches:
            step(name, data[b])  # warm-up: compilation, OpenVINO's shape-specific kernels
            if PATHS[name][2]:
                compile_s[name] = compile_seconds(runtimes[name])
    times: Dict[tuple, List[float]] = {(n, b): [] for n in runtimes for b in batches}
    for _ in range(s.infer_repeats):
        for b in batches:
            for name in runtimes:
                t0 = time.perf_counter()
                step(name, data[b])
                times[name, b].append(time.perf_counter() - t0)
    peaks = gemm_peaks(s.threads, repeats=3 if s.quick else 5, n=512 if s.quick else 2048)
    tmp.cleanup()
    rows = []
    for name, (backend, prec, comp) in PATHS.items():
        for b in batches:
            if name not in runtimes:
                rows.append(dict(path=name, batch=b, note=notes.get(name, '')))
                continue
            sec = float(np.median(times[name, b]))
            ref = float(np.median(times['PyTorch eager fp32', b]))
            crops_s = b / sec
            achieved = crops_s * 2 * gmac
            peak = peaks.get(prec, {}).get('gmacs')
            rows.append(dict(
                path=name, backend=backend, precision=prec, batch=b, crops_per_s=crops_s,
                batch_ms=sec * 1e3, speedup_vs_fp32=ref / sec, achieved_gmacs=achieved,
                peak_gmacs=peak, share_of_peak=None if peak is None else achieved / peak,
                compile_s=compile_s.get(name), note=''))
    return [dict(kind='paths', model=cpn.name, memory_format=fmt, threads=s.threads,
                 repeats=s.infer_repeats, gmac_per_crop=gmac, quantize_s=quantize_s,
                 calibration_crops=int(crops.shape[0]), openvino_capabilities=caps,
                 peaks=peaks, rows=rows)]
