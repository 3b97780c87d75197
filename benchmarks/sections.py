# Copyright (c) cpn_mm authors. All rights reserved.
"""The benchmark's sections. Each takes the run's :class:`Settings` and returns a list of
tables as data: dicts with ``kind`` (the section), the settings they were measured with and
``rows`` (dicts of numbers and names). :mod:`benchmarks.render` prints them."""
import copy
import dataclasses
import gc
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .contenders import (BASELINE, CONTENDERS, CPN, CPN_BEFORE, REPO, build, gmacs,
                         heatmaps_for_decoding, load_config, make_batch, to_memory_format)
from .paths import bench_paths

PRECISIONS = {'fp32': 'float32', 'bf16': 'bfloat16'}


@dataclasses.dataclass
class Settings:
    """What one run measures and how often; :meth:`preset` gives the quick and full runs."""
    quick: bool = False
    threads: int = 2
    sections: Tuple[str, ...] = ('modules', 'train', 'infer', 'paths', 'data')
    memory_formats: Tuple[str, ...] = ('channels_last', )
    precisions: Tuple[str, ...] = ('fp32', 'bf16')
    onnxruntime: bool = True
    compile: bool = True
    malloc: str = 'keep'
    module_repeats: int = 15
    train_batch: int = 8
    train_repeats: int = 7
    train_warmup: int = 2
    infer_batch: int = 32
    infer_repeats: int = 5
    infer_warmup: int = 2
    data_repeats: int = 7

    @classmethod
    def preset(cls, quick: bool, **overrides) -> 'Settings':
        """The full run, or with ``quick`` a smoke run (small batches, one timed repeat of the
        training and inference steps, no warm-up)."""
        base = cls(quick=True, module_repeats=3, train_batch=2, train_repeats=1, train_warmup=0,
                   infer_batch=2, infer_repeats=1, infer_warmup=0, data_repeats=2,
                   compile=False) \
            if quick else cls()
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


# --------------------------------------------------------------------------- measuring
def timeit(fns: Dict[object, Callable], repeats: int, warmup: int = 2) -> Dict[object, float]:
    """Median seconds per call of each function, the functions interleaved."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: Dict[object, List[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _status_kib(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_delta_mib(fn: Callable) -> Optional[float]:
    """Peak resident set size during ``fn()`` minus the resident size before it, in MiB.

    Linux only: freed heap memory is handed back first
    (:func:`cpn_mm.utils.release_freed_memory`), the kernel's peak counter (VmHWM) is reset
    through ``/proc/self/clear_refs`` and read after the call. It counts every byte the process
    touches (tensors, allocator slack, library buffers), which a torch allocator statistic
    would not on CPU. ``None`` where this is not available.
    """
    from cpn_mm.utils import release_freed_memory
    gc.collect()
    if not release_freed_memory():
        return None
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return None
    base = _status_kib('VmRSS')
    fn()
    peak = _status_kib('VmHWM')
    return None if base is None or peak is None else (peak - base) / 1024


# --------------------------------------------------------------------------- sections
def bench_modules(s: Settings) -> List[dict]:
    """Target generation per instance and the OHKM loss, against MMPose's modules."""
    from mmpose.datasets.transforms import GenerateTarget
    from mmpose.models.losses import KeypointOHKMMSELoss

    from cpn_mm.models.losses import OHKMMaskedMSELoss
    rows = []

    def row(what, ours, theirs, t):
        rows.append(dict(what=what, ours=ours, theirs=theirs, ours_ms=t['ours'] * 1e3,
                         theirs_ms=t['mmpose'] * 1e3, speedup=t['mmpose'] / t['ours']))

    # targets: our codec (all GlobalNet levels and the RefineNet target in one call) vs
    # MMPose's GenerateTarget(multilevel=True) over four MegviiHeatmap codecs
    input_size, heatmap_size = (192, 256), (48, 64)
    ours = GenerateTarget(
        encoder=dict(type='MultiSigmaHeatmap', input_size=input_size, heatmap_size=heatmap_size))
    theirs = GenerateTarget(
        encoder=[
            dict(type='MegviiHeatmap', input_size=input_size, heatmap_size=heatmap_size,
                 kernel_size=k) for k in (15, 11, 9, 7)
        ],
        multilevel=True)
    rng = np.random.default_rng(0)
    kpts = rng.uniform([0, 0], input_size, size=(1, 17, 2)).astype(np.float32)
    vis = (rng.uniform(size=(1, 17)) > 0.2).astype(np.float32)

    def encode(t):
        return lambda: t.transform(dict(keypoints=kpts.copy(), keypoints_visible=vis.copy()))

    row('targets per instance (K=17, 64x48)', 'MultiSigmaHeatmap (5 maps)',
        'GenerateTarget + 4x MegviiHeatmap',
        timeit({'ours': encode(ours), 'mmpose': encode(theirs)}, s.module_repeats * 20))

    # OHKM loss forward + backward at B=64, K=17, 64x48
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 17, 64, 48, generator=g).requires_grad_(True)
    tgt = torch.rand(64, 17, 64, 48, generator=g)
    w = (torch.rand(64, 17, generator=g) > 0.2).float()

    def loss_step(loss):
        def fn():
            x.grad = None
            loss(x, tgt, w).backward()
        return fn

    row('OHKM loss fwd+bwd (B=64, K=17, 64x48)', 'OHKMMaskedMSELoss', 'KeypointOHKMMSELoss',
        timeit({'ours': loss_step(OHKMMaskedMSELoss(topk=8)),
                'mmpose': loss_step(KeypointOHKMMSELoss(use_target_weight=True, topk=8))},
               s.module_repeats))
    return [dict(kind='modules', repeats=s.module_repeats, rows=rows)]


def bench_train(s: Settings) -> List[dict]:
    """Training steps of every contender and precision, interleaved; one table per memory
    format. GMACs of the training forward (CPN's GlobalNet heatmaps included)."""
    from mmengine.optim import build_optim_wrapper
    tables = []
    flops: Dict[str, Tuple[float, float]] = {}
    for fmt in s.memory_formats:
        steps, mems = {}, {}
        for c in CONTENDERS:
            cfg, model = build(c, fmt)
            if c.name not in flops:
                flops[c.name] = gmacs(model, cfg, training=True)
            model.train()
            data = make_batch(cfg, s.train_batch)
            for prec in s.precisions:
                # the configs' optimizer (Adam) with a fixed learning rate, as the runner builds
                # it; bf16: what tools/train.py --amp builds on a CPU
                wrapper_cfg = dict(optimizer=dict(type='Adam', lr=1e-4))
                if prec == 'bf16':
                    wrapper_cfg.update(type='CPUAmpOptimWrapper', dtype='bfloat16')
                wrapper = build_optim_wrapper(model, wrapper_cfg)
                steps[c.name, prec] = (lambda m=model, w=wrapper, d=data: m.train_step(d, w))
        t = timeit(steps, s.train_repeats, warmup=s.train_warmup)
        for key, fn in steps.items():  # one step each, alone, after the timed ones
            mems[key] = peak_rss_delta_mib(fn)
        del steps
        gc.collect()
        rows = []
        for prec in s.precisions:
            base_t, base_f = t[BASELINE, prec], flops[BASELINE][0]
            for c in CONTENDERS:
                executed, arch = flops[c.name]
                rt, rf = t[c.name, prec] / base_t, executed / base_f
                rows.append(dict(
                    model=c.name, implementation=c.implementation, precision=prec,
                    gmac=executed, gmac_straightforward=arch, step_s=t[c.name, prec],
                    bf16_speedup=t[c.name, 'fp32'] / t[c.name, prec]
                    if 'fp32' in s.precisions else None,
                    step_ratio=rt, gmac_ratio=rf, step_per_gmac_ratio=rt / rf,
                    peak_rss_mib=mems[c.name, prec]))
        tables.append(dict(kind='train', memory_format=fmt, batch=s.train_batch,
                           threads=s.threads, repeats=s.train_repeats, baseline=BASELINE,
                           rows=rows))
    return tables


def bench_infer(s: Settings) -> List[dict]:
    """``test_step`` (data preprocessor, flip test, decoding, keypoints in the input image)
    under ``torch.no_grad`` for every contender and precision, CPN also as before its GlobalNet
    heatmaps were skipped at inference, and CPN through ONNX Runtime; interleaved. Decoding
    (the head's ``decode`` on float32 heatmaps) is timed on its own. GMACs of the inference
    forward; cost per crop and GMACs relative to the baseline at the same precision."""
    from cpn_mm.apis import OnnxRuntimeBackend, export_onnx
    fmt = s.memory_formats[0]
    fns: Dict[tuple, Callable] = {}
    decode_fns: Dict[str, Callable] = {}
    flops: Dict[str, float] = {}
    tmp = tempfile.TemporaryDirectory(prefix='cpn_bench_')
    contenders = (CONTENDERS[0], CPN_BEFORE) + CONTENDERS[1:]
    for c in contenders:
        cfg, model = build(c, fmt)
        model.eval()
        assert model.test_cfg.get('flip_test', False), c.name
        flops[c.name] = gmacs(model, cfg, training=False)[0]
        data = make_batch(cfg, s.infer_batch)

        def step(m=model, d=data, dtype='float32'):
            m.test_cfg['dtype'] = dtype
            with torch.no_grad():
                m.test_step(d)

        for prec in s.precisions:
            fns[c.name, 'PyTorch', prec] = (lambda st=step, p=prec: st(dtype=PRECISIONS[p]))
        heatmaps = heatmaps_for_decoding(model, model.data_preprocessor(data, False)['inputs'])
        decode_fns[c.name] = (lambda m=model, hm=heatmaps: m.head.decode(hm))
        if s.onnxruntime and c.name == CPN:
            onnx_file = export_onnx(to_memory_format(model, 'contiguous'),
                                    osp.join(tmp.name, 'cpn_r50.onnx'))
            to_memory_format(model, fmt)
            backend = OnnxRuntimeBackend(onnx_file, model, threads=s.threads)

            def ort_step(b=backend, d=data):
                with torch.no_grad():
                    b.test_step(d)

            fns[c.name, 'ONNX Runtime', 'fp32'] = ort_step
    t = timeit(fns, s.infer_repeats, warmup=s.infer_warmup)
    dec = timeit(decode_fns, s.infer_repeats * 3, warmup=1)
    tmp.cleanup()
    rows = []
    for c in contenders:
        for (name, backend, prec), sec in t.items():
            if name != c.name:
                continue
            ref = t.get((name, 'PyTorch', 'fp32'))
            base = t.get((BASELINE, 'PyTorch', prec))
            rows.append(dict(
                model=name, implementation=c.implementation, backend=backend, precision=prec,
                crops_per_s=s.infer_batch / sec, batch_ms=sec * 1e3,
                speedup_vs_fp32=None if ref is None else ref / sec,
                cost_ratio=None if base is None else sec / base,
                gmac=flops[name], gmac_ratio=flops[name] / flops[BASELINE],
                decoding_ms=dec[name] * 1e3, decoding_share=dec[name] / (sec - dec[name])))
    return [dict(kind='infer', memory_format=fmt, batch=s.infer_batch, threads=s.threads,
                 repeats=s.infer_repeats, baseline=BASELINE, rows=rows)]


def bench_data(s: Settings) -> List[dict]:
    """The CPN config's train_pipeline on the COCO sample (CPNCocoDataset), against the same
    pipeline with MMPose's MSPN GenerateTarget (multilevel, four MegviiHeatmap codecs)."""
    from mmpose.registry import DATASETS
    by_name = {c.name: c for c in CONTENDERS}
    cfg = load_config(by_name[CPN])
    mspn = load_config(by_name['MSPN-50 (1 stage)'])
    theirs_pipeline = copy.deepcopy(cfg.train_pipeline)
    i = [j for j, t in enumerate(theirs_pipeline) if t['type'] == 'GenerateTarget'][0]
    theirs_pipeline[i] = [t for t in mspn.train_pipeline if t['type'] == 'GenerateTarget'][0]
    sample = osp.join(REPO, 'data', 'coco_sample')
    datasets = {}
    for key, pipeline in (('ours', cfg.train_pipeline), ('mmpose', theirs_pipeline)):
        datasets[key] = DATASETS.build(
            dict(type='CPNCocoDataset', data_root=sample, data_mode='topdown',
                 ann_file='test_coco.json', data_prefix=dict(img=''), pipeline=pipeline))
    n = len(datasets['ours'])

    def one_pass(ds):
        def fn():
            for j in range(n):
                ds[j]
        return fn

    t = timeit({k: one_pass(ds) for k, ds in datasets.items()}, s.data_repeats, warmup=1)
    a, b = n / t['ours'], n / t['mmpose']
    return [dict(kind='data', samples=n, repeats=s.data_repeats, rows=[
        dict(pipeline='cpn_mm (config train_pipeline)', targets='MultiSigmaHeatmap (5 maps)',
             samples_per_s=a, speedup=a / b),
        dict(pipeline='MMPose MSPN targets', targets='multilevel, 4x MegviiHeatmap',
             samples_per_s=b, speedup=1.)])]


SECTIONS: Dict[str, Callable[[Settings], List[dict]]] = {
    'modules': bench_modules, 'train': bench_train, 'infer': bench_infer, 'paths': bench_paths,
    'data': bench_data}


def run_sections(s: Settings) -> List[dict]:
    """Every table of the selected sections, in order."""
    tables: List[dict] = []
    for name in s.sections:
        tables += SECTIONS[name](s)
    return tables
