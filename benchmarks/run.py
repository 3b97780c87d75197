# Copyright (c) cpn_mm authors. All rights reserved.
"""Side-by-side speed figures of cpn_mm against MMPose's own modules and models, in one run.

    python benchmarks/run.py            # full run (see README "Speed")
    python benchmarks/run.py --quick    # smoke run (CI's tests use it)
    python benchmarks/run.py --only train infer --threads 2

Sections (``--only``):

- ``targets``, ``ohkm``: target generation and the OHKM loss against MMPose's modules.
- ``train``: one full training step (data already in memory: data preprocessor, forward, loss,
  backward, Adam step) of CPN-R50 (configs/cpn_r50_coco_256x192.py) against MMPose's
  SimpleBaseline-R50 and MSPN-50 (one stage), all built from their configs without
  pretrained weights, with each model's GMACs (MMEngine's FlopAnalyzer, 1 MAC per
  multiply-add) and the peak resident memory of one step.
- ``infer``: crops/s through each model's ``predict`` path with flip test and decoding, and
  decoding's share of the time.
- ``data``: samples/s of the training pipeline on data/coco_sample, ours against the same
  pipeline with MMPose's MSPN multi-level MegviiHeatmap targets.

Contenders are interleaved (A, B, A, B, ...) and each figure is the median of the repeats;
the thread count (torch and OpenCV) is pinned and printed. The memory format
(``--memory-format``) is applied to every contender alike. Prints markdown tables.
"""
import argparse
import copy
import ctypes
import gc
import os.path as osp
import platform
import statistics
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMPOSE_COCO_CONFIGS = 'body_2d_keypoint/topdown_heatmap/coco/'
MODELS = {  # name -> (config, what it is)
    'CPN-R50': (osp.join(REPO, 'configs', 'cpn_r50_coco_256x192.py'), 'cpn_mm'),
    'SimpleBaseline-R50': ('td-hm_res50_8xb64-210e_coco-256x192.py', 'MMPose HeatmapHead'),
    'MSPN-50 (1 stage)': ('td-hm_mspn50_8xb32-210e_coco-256x192.py', 'MMPose MSPNHead'),
}
BASELINE = 'SimpleBaseline-R50'


# --------------------------------------------------------------------------- helpers
def timeit(fns: Dict[str, Callable], repeats: int, warmup: int = 2) -> Dict[str, float]:
    """Median seconds per call of each function, the functions interleaved."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: Dict[str, List[float]] = {k: [] for k in fns}
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

    Linux only: freed heap memory is handed back first (``malloc_trim``), the kernel's peak
    counter (VmHWM) is reset through ``/proc/self/clear_refs`` and read after the call. It counts
    every byte the process touches (tensors, allocator slack, library buffers), which a torch
    allocator statistic would not on CPU. ``None`` where this is not available.
    """
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return None
    base = _status_kib('VmRSS')
    fn()
    peak = _status_kib('VmHWM')
    return None if base is None or peak is None else (peak - base) / 1024


def load_config(name: str):
    from mmengine.config import Config
    path = MODELS[name][0]
    if not osp.isabs(path):
        import mmpose  # MMPose's configs are installed with the package (.mim)
        path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_COCO_CONFIGS,
                        path)
    return Config.fromfile(path)


def build_model(name: str, memory_format: torch.memory_format):
    """The config's model, without pretrained weights (nothing is downloaded)."""
    from mmpose.registry import MODELS as REGISTRY
    cfg = load_config(name)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    model = REGISTRY.build(model_cfg)
    model.init_weights()
    model.to(memory_format=memory_format)
    return cfg, model


def make_batch(cfg, batch_size: int, seed: int = 0) -> dict:
    """A batch as the data loader gives it (uint8 images, packed data samples with the
    config's targets), from random images and keypoints."""
    from mmpose.registry import TRANSFORMS
    codec = cfg.codec
    gen = TRANSFORMS.build(
        dict(type='GenerateTarget', encoder=codec, multilevel=isinstance(codec, list)))
    pack = TRANSFORMS.build(dict(type='PackPoseInputs'))
    w, h = (codec[0] if isinstance(codec, list) else codec)['input_size']
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        r = dict(
            img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
            keypoints=rng.uniform([0, 0], [w, h], size=(1, 17, 2)).astype(np.float32),
            keypoints_visible=(rng.uniform(size=(1, 17)) > 0.2).astype(np.float32),
            img_shape=(h, w), ori_shape=(h, w), input_size=(w, h),
            input_center=np.array([w / 2, h / 2]), input_scale=np.array([w, h], np.float64),
            bbox=np.array([[0, 0, w, h]], np.float32), bbox_score=np.ones(1, np.float32),
            id=0, img_id=0, img_path='', category_id=1,
            flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
        r = pack(gen(r))
        inputs.append(r['inputs'])
        samples.append(r['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


def gmacs(model, input_size) -> float:
    """Multiply-adds of one (3, h, w) crop through what a training step runs forward, in G:
    backbone, neck and head, with the neck's outputs kept (the trace would otherwise drop
    GlobalNet's heatmap predictors, which only the loss reads)."""
    from mmengine.analysis import FlopAnalyzer
    class TrainForward(torch.nn.Module):

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            feats = self.model.extract_feat(x)
            return self.model.head.forward(feats), feats

    training = model.training
    w, h = input_size
    with torch.no_grad():
        fa = FlopAnalyzer(TrainForward(model.eval()), (torch.rand(1, 3, h, w), ))
        fa.unsupported_ops_warnings(False)
        fa.uncalled_modules_warnings(False)
        total = fa.total()
    model.train(training)
    return total / 1e9


def _resize(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def straightforward_cpn(model):
    """A copy of a CPN model whose neck and head run the straightforward tf-cpn forward (resize,
    then the 1x1 convs; concatenation before the last bottleneck): the architecture's
    multiply-adds, for the FLOP column."""
    m = copy.deepcopy(model)
    neck, head = m.neck, m.head

    def neck_forward(inputs):
        out_size = inputs[0].shape[-2:]
        feats, hms, last = [None] * neck.num_levels, [None] * neck.num_levels, None
        for i in range(neck.num_levels - 1, -1, -1):
            lat = neck.lateral_convs[i](inputs[i])
            if last is not None:
                lat = neck.merge_convs[i](_resize(last, lat.shape[-2:])) + lat
            last = feats[i] = lat
            hms[i] = _resize(neck.predict_layers[i](last), out_size)
        return tuple(feats), tuple(hms)

    def head_forward(feats):
        pyramid = feats[0]
        size = pyramid[0].shape[-2:]
        cat = torch.cat([_resize(b(p), size) for b, p in zip(head.level_blocks, pyramid)], 1)
        return head.final_layer(head.final_block(cat))

    neck.forward, head.forward = neck_forward, head_forward
    return m


def _table(title: str, header: List[str], align: str, rows: List[List[str]]) -> List[str]:
    return [f'**{title}**', '', '| ' + ' | '.join(header) + ' |',
            '|' + '|'.join('---:' if a == 'r' else '---' for a in align) + '|'] + [
                '| ' + ' | '.join(r) + ' |' for r in rows] + ['']


# --------------------------------------------------------------------------- sections
def bench_targets(args) -> List[tuple]:
    """Target generation per instance: GenerateTarget over our codec (all GlobalNet levels
    and the RefineNet target in one call) vs MMPose's GenerateTarget(multilevel=True) over four
    MegviiHeatmap codecs (the four GlobalNet levels only)."""
    from mmpose.datasets.transforms import GenerateTarget
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

    def run(t):
        return lambda: t.transform(dict(keypoints=kpts.copy(), keypoints_visible=vis.copy()))

    t = timeit({'ours': run(ours), 'mmpose': run(theirs)}, args.repeats * 20)
    return [('targets per instance (K=17, 64x48)', 'MultiSigmaHeatmap (5 maps)',
             'GenerateTarget + 4x MegviiHeatmap', t['ours'], t['mmpose'])]


def bench_ohkm(args) -> List[tuple]:
    """OHKM loss forward + backward at B=64, K=17, 64x48."""
    from mmpose.models.losses import KeypointOHKMMSELoss

    from cpn_mm.models.losses import OHKMMaskedMSELoss
    ours, theirs = OHKMMaskedMSELoss(topk=8), KeypointOHKMMSELoss(use_target_weight=True, topk=8)
    g = torch.Generator().manual_seed(0)
    out = torch.rand(64, 17, 64, 48, generator=g)
    tgt = torch.rand(64, 17, 64, 48, generator=g)
    w = (torch.rand(64, 17, generator=g) > 0.2).float()

    x = out.requires_grad_(True)

    def run(loss):
        def fn():
            x.grad = None
            loss(x, tgt, w).backward()
        return fn

    t = timeit({'ours': run(ours), 'mmpose': run(theirs)}, args.repeats)
    return [('OHKM loss fwd+bwd (B=64, K=17, 64x48)', 'OHKMMaskedMSELoss',
             'KeypointOHKMMSELoss', t['ours'], t['mmpose'])]


def _memory_formats(args) -> List[str]:
    if args.memory_format == 'both':
        return ['channels_last', 'contiguous']
    return [args.memory_format]


def bench_train(args) -> List[str]:
    """Training steps, models interleaved, one table per memory format."""
    from mmengine.optim import build_optim_wrapper
    B = args.train_batch
    lines = []
    flops: Dict[str, tuple] = {}
    for fmt in _memory_formats(args):
        mf = getattr(torch, fmt if fmt == 'channels_last' else 'contiguous_format')
        steps, mems = {}, {}
        for name in MODELS:
            cfg, model = build_model(name, mf)
            if name not in flops:
                size = (cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec)['input_size']
                executed = gmacs(model, size)
                arch = gmacs(straightforward_cpn(model), size) if name == 'CPN-R50' else executed
                flops[name] = (arch, executed)
            model.train()
            # the configs' optimizer (Adam) with a fixed learning rate, as the runner builds it
            wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
            data = make_batch(cfg, B)
            steps[name] = (lambda m=model, w=wrapper, d=data: m.train_step(d, w))
        t = timeit(steps, args.train_repeats, warmup=args.train_warmup)
        for name, fn in steps.items():  # one step each, alone, after the timed ones
            mems[name] = peak_rss_delta_mib(fn)
        del steps
        gc.collect()
        rows = []
        base_t, base_f = t[BASELINE], flops[BASELINE][1]
        for name in MODELS:
            arch, executed = flops[name]
            rt, rf = t[name] / base_t, executed / base_f
            gm = f'{executed:.2f}' if abs(arch - executed) < 5e-3 else \
                f'{executed:.2f} ({arch:.2f} straightforward)'
            mem = 'n/a' if mems[name] is None else f'{mems[name]:.0f}'
            rows.append([name, MODELS[name][1], gm, f'{t[name]:.3f}', f'{rt:.2f}', f'{rf:.2f}',
                         f'{rt / rf:.2f}', mem])
        lines += _table(
            f'Training step, B={B}, 256x192, {fmt}, {args.threads} threads '
            f'(medians of {args.train_repeats})',
            ['model', 'implementation', 'GMAC / crop', 'step (s)', f'step / {BASELINE}',
             f'GMAC / {BASELINE}', 'step ratio / GMAC ratio', 'peak RSS of a step (MiB)'],
            'llrrrrrr', rows)
    return lines


def bench_infer(args) -> List[str]:
    """``test_step`` (data preprocessor, flip test, decoding, results in the input image) under
    ``torch.no_grad``, models interleaved; decoding timed inside the same calls."""
    B = args.infer_batch
    mf = torch.channels_last if 'channels_last' in _memory_formats(args) else \
        torch.contiguous_format
    fns, decode_times = {}, {}
    for name in MODELS:
        cfg, model = build_model(name, mf)
        model.eval()
        head = model.head
        decode_times[name] = []

        def timed_decode(*a, _decode=head.decode, _store=decode_times[name], **kw):
            t0 = time.perf_counter()
            out = _decode(*a, **kw)
            _store.append(time.perf_counter() - t0)
            return out

        head.decode = timed_decode
        data = make_batch(cfg, B)
        assert model.test_cfg.get('flip_test', False), name

        def fn(m=model, d=data):
            with torch.no_grad():
                m.test_step(d)

        fns[name] = fn
    warmup = args.train_warmup
    t = timeit(fns, args.infer_repeats, warmup=warmup)
    rows = []
    for name in MODELS:
        dec = statistics.median(decode_times[name][warmup:])
        fwd = t[name] - dec
        rows.append([name, MODELS[name][1], f'{B / t[name]:.1f}', f'{t[name] * 1e3:.0f}',
                     f'{dec * 1e3:.1f}', f'{100 * dec / fwd:.1f}%'])
    fmt = 'channels_last' if mf == torch.channels_last else 'contiguous'
    return _table(
        f'Inference with flip test, B={B}, 256x192, {fmt}, {args.threads} threads '
        f'(medians of {args.infer_repeats})',
        ['model', 'implementation', 'crops/s', 'batch (ms)', 'decoding (ms)',
         'decoding / rest of predict'], 'llrrrr', rows)


def bench_data(args) -> List[str]:
    """The CPN config's train_pipeline on the COCO sample (CPNCocoDataset), against the same
    pipeline with MMPose's MSPN GenerateTarget (multilevel, four MegviiHeatmap codecs)."""
    from mmpose.registry import DATASETS
    cfg = load_config('CPN-R50')
    mspn = load_config('MSPN-50 (1 stage)')
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

    def run(ds):
        def fn():
            for j in range(n):
                ds[j]
        return fn

    t = timeit({k: run(ds) for k, ds in datasets.items()}, args.data_repeats, warmup=1)
    a, b = n / t['ours'], n / t['mmpose']
    return _table(
        f'Training data pipeline (LoadImage .. PackPoseInputs), data/coco_sample ({n} persons), '
        f'1 process (medians of {args.data_repeats} passes)',
        ['pipeline', 'GenerateTarget', 'samples/s', 'ms / sample', 'speed-up'], 'llrrr',
        [['cpn_mm (config train_pipeline)', 'MultiSigmaHeatmap (5 maps)', f'{a:.0f}',
          f'{1e3 / a:.2f}', f'{a / b:.2f}x'],
         ['MMPose MSPN targets', 'multilevel, 4x MegviiHeatmap', f'{b:.0f}', f'{1e3 / b:.2f}',
          '1.00x']])


MODULE_SECTIONS = {'targets': bench_targets, 'ohkm': bench_ohkm}
TABLE_SECTIONS = {'train': bench_train, 'infer': bench_infer, 'data': bench_data}
SECTIONS = [*MODULE_SECTIONS, *TABLE_SECTIONS]


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='few repeats (smoke run)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads (pinned)')
    parser.add_argument('--only', nargs='+', choices=SECTIONS, default=None,
                        help='run only these sections')
    parser.add_argument('--memory-format', choices=['channels_last', 'contiguous', 'both'],
                        default=None, help='of the models and activations, for every contender '
                        '(default: both in a full run, channels_last with --quick)')
    parser.add_argument('--malloc', choices=['keep', 'default'], default='keep',
                        help='keep: glibc keeps freed memory for reuse (cpn_mm.utils.'
                        'keep_freed_memory, what KeepFreedMemoryHook does), for every '
                        'contender; default: glibc\'s defaults (large blocks mmapped anew)')
    args = parser.parse_args()
    malloc = 'glibc defaults'
    if args.malloc == 'keep':
        from cpn_mm.utils import keep_freed_memory
        malloc = 'freed memory kept (keep_freed_memory)' if keep_freed_memory() else \
            'glibc defaults (keep_freed_memory unsupported here)'
    torch.set_num_threads(args.threads)
    import cv2
    cv2.setNumThreads(args.threads)
    import cpn_mm  # noqa: F401
    from mmengine.logging import MMLogger
    from mmpose.utils import register_all_modules
    MMLogger.get_instance('cpn_mm_benchmark', log_level='WARNING')  # no init_weights report
    register_all_modules()
    quick = args.quick
    if args.memory_format is None:
        args.memory_format = 'channels_last' if quick else 'both'
    args.repeats = 3 if quick else 15
    args.train_batch, args.train_repeats, args.train_warmup = (2, 2, 1) if quick else (8, 7, 2)
    args.infer_batch, args.infer_repeats = (4, 2) if quick else (32, 5)
    args.data_repeats = 2 if quick else 7

    t0 = time.perf_counter()
    rows, lines = [], []
    for name in args.only or SECTIONS:
        if name in MODULE_SECTIONS:
            rows += MODULE_SECTIONS[name](args)
        else:
            lines += TABLE_SECTIONS[name](args)
    print(f'\nMachine: {cpu_name()} ({platform.machine()}), {torch.get_num_threads()} torch '
          f'threads, {cv2.getNumThreads()} OpenCV threads, torch {torch.__version__}, '
          f'malloc: {malloc}, '
          f'{"quick" if quick else "full"} run, medians of the repeats given per table '
          f'({time.perf_counter() - t0:.0f} s)\n')
    if rows:
        print(f'**Modules (medians of {args.repeats}+ repeats)**\n')
        print('| what | cpn_mm | MMPose | cpn_mm (ms) | MMPose (ms) | speed-up |')
        print('|---|---|---|---:|---:|---:|')
        for what, a, b, ta, tb in rows:
            print(f'| {what} | {a} | {b} | {ta * 1e3:.3f} | {tb * 1e3:.3f} | {tb / ta:.1f}x |')
        print()
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
