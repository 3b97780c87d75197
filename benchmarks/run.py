# Copyright (c) cpn_mm authors. All rights reserved.
"""Side-by-side speed figures of cpn_mm against MMPose's own modules and models, in one run.

    python benchmarks/run.py            # full run (tables in benchmarks/README.md)
    python benchmarks/run.py --quick    # smoke run (tests/test_benchmarks.py runs it)
    python benchmarks/run.py --only train infer --threads 2 --precision fp32 bf16

Sections (``--only``):

- ``modules``: target generation and the OHKM loss against MMPose's modules.
- ``train``: one full training step (data already in memory: data preprocessor, forward, loss,
  backward, Adam step) of CPN-R50 (configs/cpn_r50_coco_256x192.py) against MMPose's
  SimpleBaseline-R50 and MSPN-50 (one stage), all built from their configs without
  pretrained weights, per memory format and precision (fp32; bf16: the step under
  :class:`cpn_mm.engine.CPUAmpOptimWrapper`, what ``tools/train.py --amp`` uses on a CPU), with
  each model's GMACs (:func:`cpn_mm.apis.complexity`) and the peak resident memory of a step.
- ``infer``: crops/s through each model's ``test_step`` with flip test and decoding, per
  precision (``test_cfg.dtype``, what the test tools, the demo and ``MMPoseInferencer`` use),
  and CPN through ONNX Runtime (:class:`cpn_mm.apis.OnnxRuntimeBackend`, float32); decoding's
  share of the time.
- ``data``: samples/s of the training pipeline on data/coco_sample, ours against the same
  pipeline with MMPose's MSPN multi-level MegviiHeatmap targets.

Every contender is built as :class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator` (MMPose's
``TopdownPoseEstimator`` plus ``test_cfg.dtype``; its head hands float32 heatmaps to the loss and
to decoding), so every setting applies to all contenders alike. Contenders are interleaved
(A, B, A, B, ...) and each figure is the median of the repeats; the thread count (torch, OpenCV,
ONNX Runtime) is pinned and printed with the CPU's bfloat16 support. Prints markdown tables.
"""
import argparse
import copy
import ctypes
import dataclasses
import gc
import os.path as osp
import platform
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMPOSE_COCO_CONFIGS = 'body_2d_keypoint/topdown_heatmap/coco/'
PRECISIONS = {'fp32': 'float32', 'bf16': 'bfloat16'}


@dataclasses.dataclass(frozen=True)
class Contender:
    name: str
    config: str  # absolute, or relative to MMPose's installed COCO top-down configs
    implementation: str


CONTENDERS = (
    Contender('CPN-R50', osp.join(REPO, 'configs', 'cpn_r50_coco_256x192.py'), 'cpn_mm'),
    Contender('SimpleBaseline-R50', 'td-hm_res50_8xb64-210e_coco-256x192.py',
              'MMPose HeatmapHead'),
    Contender('MSPN-50 (1 stage)', 'td-hm_mspn50_8xb32-210e_coco-256x192.py', 'MMPose MSPNHead'),
)
BASELINE = 'SimpleBaseline-R50'


@dataclasses.dataclass
class Settings:
    """What one run measures and how often; :meth:`preset` gives the quick and full runs."""
    quick: bool = False
    threads: int = 2
    sections: Tuple[str, ...] = ('modules', 'train', 'infer', 'data')
    memory_formats: Tuple[str, ...] = ('channels_last', )
    precisions: Tuple[str, ...] = ('fp32', 'bf16')
    onnxruntime: bool = True
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
        """The full run, or with ``quick`` a smoke run (small batches, one timed repeat)."""
        base = cls(quick=True, module_repeats=3, train_batch=2, train_repeats=1, train_warmup=1,
                   infer_batch=2, infer_repeats=1, infer_warmup=1, data_repeats=2) \
            if quick else cls()
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclasses.dataclass
class Table:
    """A markdown table: title, header, column alignment (``l``/``r`` per column), rows."""
    title: str
    header: List[str]
    align: str
    rows: List[List[str]] = dataclasses.field(default_factory=list)

    def markdown(self) -> str:
        lines = [f'**{self.title}**', '', '| ' + ' | '.join(self.header) + ' |',
                 '|' + '|'.join('---:' if a == 'r' else '---' for a in self.align) + '|']
        lines += ['| ' + ' | '.join(r) + ' |' for r in self.rows]
        return '\n'.join(lines) + '\n'


def print_tables(tables: Sequence[Table]) -> None:
    for table in tables:
        print(table.markdown())


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


def load_config(contender: Contender):
    from mmengine.config import Config
    path = contender.config
    if not osp.isabs(path):
        import mmpose  # MMPose's configs are installed with the package (.mim)
        path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_COCO_CONFIGS,
                        path)
    return Config.fromfile(path)


def input_size_of(cfg) -> Tuple[int, int]:
    codec = cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec
    return tuple(codec['input_size'])  # (w, h)


def build(contender: Contender, memory_format: str):
    """The config's model as a MixedPrecisionTopdownPoseEstimator, without pretrained weights
    (nothing is downloaded), in ``memory_format``."""
    from mmpose.registry import MODELS
    cfg = load_config(contender)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.type = 'MixedPrecisionTopdownPoseEstimator'
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(memory_format=torch.channels_last if memory_format == 'channels_last' else
             torch.contiguous_format)
    return cfg, model


def make_batch(cfg, batch_size: int, seed: int = 0) -> dict:
    """A batch as the data loader gives it (uint8 images, packed data samples with the
    config's targets), from random images and keypoints."""
    from mmpose.registry import TRANSFORMS
    codec = cfg.codec
    gen = TRANSFORMS.build(
        dict(type='GenerateTarget', encoder=codec, multilevel=isinstance(codec, list)))
    pack = TRANSFORMS.build(dict(type='PackPoseInputs'))
    w, h = input_size_of(cfg)
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


def gmacs(model, cfg) -> Tuple[float, float]:
    """(executed, straightforward) multiply-adds of one crop in G through backbone, neck and
    head (:func:`cpn_mm.apis.complexity`); for CPN the straightforward tf-cpn forward
    (:mod:`cpn_mm.testing`), for the others the same number."""
    from cpn_mm.apis import complexity
    from cpn_mm.models import CPNRefineHead
    from cpn_mm.testing import StraightforwardGlobalNet, StraightforwardRefineHead
    w, h = input_size_of(cfg)
    executed = complexity(model, (h, w))['flops']['total'] / 1e9
    if not isinstance(model.head, CPNRefineHead):
        return executed, executed
    parts = dict(neck=StraightforwardGlobalNet(model.neck),
                 head=StraightforwardRefineHead(model.head))
    return executed, complexity(model, (h, w), parts)['flops']['total'] / 1e9


def heatmaps_for_decoding(model, inputs: torch.Tensor) -> torch.Tensor:
    """The float32 heatmaps the head decodes (MSPN: the last stage's), for timing decoding."""
    with torch.no_grad():
        out = model.head.forward(model.extract_feat(inputs))
    while isinstance(out, (list, tuple)):
        out = out[-1]
    return out


# --------------------------------------------------------------------------- sections
def bench_modules(s: Settings) -> List[Table]:
    """Target generation per instance and the OHKM loss, against MMPose's modules."""
    from mmpose.datasets.transforms import GenerateTarget
    from mmpose.models.losses import KeypointOHKMMSELoss

    from cpn_mm.models.losses import OHKMMaskedMSELoss
    table = Table(f'Modules (medians of {s.module_repeats}+ repeats)',
                  ['what', 'cpn_mm', 'MMPose', 'cpn_mm (ms)', 'MMPose (ms)', 'speed-up'],
                  'lllrrr')

    def row(what, a, b, t):
        table.rows.append([what, a, b, f'{t["ours"] * 1e3:.3f}', f'{t["mmpose"] * 1e3:.3f}',
                           f'{t["mmpose"] / t["ours"]:.1f}x'])

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
    return [table]


def bench_train(s: Settings) -> List[Table]:
    """Training steps of every contender and precision, interleaved; one table per memory
    format."""
    from mmengine.optim import build_optim_wrapper
    tables = []
    flops: Dict[str, Tuple[float, float]] = {}
    for fmt in s.memory_formats:
        steps, mems = {}, {}
        for c in CONTENDERS:
            cfg, model = build(c, fmt)
            if c.name not in flops:
                flops[c.name] = gmacs(model, cfg)
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
        table = Table(
            f'Training step, B={s.train_batch}, 256x192, {fmt}, {s.threads} threads '
            f'(medians of {s.train_repeats})',
            ['model', 'implementation', 'precision', 'GMAC / crop', 'step (s)',
             'bf16 speed-up', f'step / {BASELINE}', f'GMAC / {BASELINE}',
             'step ratio / GMAC ratio', 'peak RSS of a step (MiB)'], 'lllrrrrrrr')
        for prec in s.precisions:
            base_t, base_f = t[BASELINE, prec], flops[BASELINE][0]
            for c in CONTENDERS:
                executed, arch = flops[c.name]
                rt, rf = t[c.name, prec] / base_t, executed / base_f
                gm = f'{executed:.2f}' if abs(arch - executed) < 5e-3 else \
                    f'{executed:.2f} ({arch:.2f} straightforward)'
                speedup = f'{t[c.name, "fp32"] / t[c.name, prec]:.2f}x' \
                    if 'fp32' in s.precisions else 'n/a'
                mem = mems[c.name, prec]
                table.rows.append([c.name, c.implementation, prec, gm, f'{t[c.name, prec]:.3f}',
                                   speedup, f'{rt:.2f}', f'{rf:.2f}', f'{rt / rf:.2f}',
                                   'n/a' if mem is None else f'{mem:.0f}'])
        tables.append(table)
    return tables


def bench_infer(s: Settings) -> List[Table]:
    """``test_step`` (data preprocessor, flip test, decoding, keypoints in the input image)
    under ``torch.no_grad`` for every contender and precision, plus CPN through ONNX Runtime;
    interleaved. Decoding (the head's ``decode`` on float32 heatmaps) is timed on its own."""
    from cpn_mm.apis import OnnxRuntimeBackend, export_onnx
    fmt = s.memory_formats[0]
    fns: Dict[tuple, Callable] = {}
    decode_fns: Dict[str, Callable] = {}
    tmp = tempfile.TemporaryDirectory(prefix='cpn_bench_')
    for c in CONTENDERS:
        cfg, model = build(c, fmt)
        model.eval()
        assert model.test_cfg.get('flip_test', False), c.name
        data = make_batch(cfg, s.infer_batch)

        def step(m=model, d=data, dtype='float32'):
            m.test_cfg['dtype'] = dtype
            with torch.no_grad():
                m.test_step(d)

        for prec in s.precisions:
            fns[c.name, 'PyTorch', prec] = (lambda st=step, p=prec: st(dtype=PRECISIONS[p]))
        heatmaps = heatmaps_for_decoding(model, model.data_preprocessor(data, False)['inputs'])
        decode_fns[c.name] = (lambda m=model, hm=heatmaps: m.head.decode(hm))
        if s.onnxruntime and c.name == 'CPN-R50':
            onnx_file = export_onnx(model.to(memory_format=torch.contiguous_format),
                                    osp.join(tmp.name, 'cpn_r50.onnx'))
            model.to(memory_format=torch.channels_last if fmt == 'channels_last' else
                     torch.contiguous_format)
            backend = OnnxRuntimeBackend(onnx_file, model, threads=s.threads)

            def ort_step(b=backend, d=data):
                with torch.no_grad():
                    b.test_step(d)

            fns[c.name, 'ONNX Runtime', 'fp32'] = ort_step
    t = timeit(fns, s.infer_repeats, warmup=s.infer_warmup)
    dec = timeit(decode_fns, s.infer_repeats * 3, warmup=1)
    tmp.cleanup()
    table = Table(
        f'Inference with flip test, B={s.infer_batch}, 256x192, {fmt}, {s.threads} threads '
        f'(medians of {s.infer_repeats})',
        ['model', 'implementation', 'backend', 'precision', 'crops/s', 'batch (ms)',
         'speed-up vs PyTorch fp32', 'decoding (ms)', 'decoding / rest of predict'],
        'llllrrrrr')
    for c in CONTENDERS:
        for (name, backend, prec), sec in t.items():
            if name != c.name:
                continue
            ref = t.get((name, 'PyTorch', 'fp32'))
            table.rows.append([
                name, c.implementation, backend, prec, f'{s.infer_batch / sec:.1f}',
                f'{sec * 1e3:.0f}', 'n/a' if ref is None else f'{ref / sec:.2f}x',
                f'{dec[name] * 1e3:.1f}', f'{100 * dec[name] / (sec - dec[name]):.1f}%'])
    return [table]


def bench_data(s: Settings) -> List[Table]:
    """The CPN config's train_pipeline on the COCO sample (CPNCocoDataset), against the same
    pipeline with MMPose's MSPN GenerateTarget (multilevel, four MegviiHeatmap codecs)."""
    from mmpose.registry import DATASETS
    by_name = {c.name: c for c in CONTENDERS}
    cfg = load_config(by_name['CPN-R50'])
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
    return [Table(
        f'Training data pipeline (LoadImage .. PackPoseInputs), data/coco_sample ({n} persons), '
        f'1 process (medians of {s.data_repeats} passes)',
        ['pipeline', 'GenerateTarget', 'samples/s', 'ms / sample', 'speed-up'], 'llrrr',
        [['cpn_mm (config train_pipeline)', 'MultiSigmaHeatmap (5 maps)', f'{a:.0f}',
          f'{1e3 / a:.2f}', f'{a / b:.2f}x'],
         ['MMPose MSPN targets', 'multilevel, 4x MegviiHeatmap', f'{b:.0f}', f'{1e3 / b:.2f}',
          '1.00x']])]


SECTIONS: Dict[str, Callable[[Settings], List[Table]]] = {
    'modules': bench_modules, 'train': bench_train, 'infer': bench_infer, 'data': bench_data}


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv: Optional[List[str]] = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='few repeats (smoke run)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads (pinned)')
    parser.add_argument('--only', nargs='+', choices=list(SECTIONS), default=None,
                        help='run only these sections')
    parser.add_argument('--memory-format', choices=['channels_last', 'contiguous', 'both'],
                        default='channels_last',
                        help='of the models and activations, for every contender')
    parser.add_argument('--precision', nargs='+', choices=list(PRECISIONS), default=None,
                        help='precisions of the training and inference tables (default both)')
    parser.add_argument('--no-onnxruntime', action='store_true',
                        help='leave out CPN through ONNX Runtime in the inference table')
    parser.add_argument('--malloc', choices=['keep', 'default'], default='keep',
                        help='keep: glibc keeps freed memory for reuse (cpn_mm.utils.'
                        'keep_freed_memory, what KeepFreedMemoryHook does), for every '
                        'contender; default: glibc\'s defaults (large blocks mmapped anew)')
    args = parser.parse_args(argv)
    formats = ('channels_last', 'contiguous') if args.memory_format == 'both' else \
        (args.memory_format, )
    precisions = tuple(p for p in PRECISIONS if args.precision is None or p in args.precision)
    return Settings.preset(
        args.quick, threads=args.threads, sections=tuple(args.only) if args.only else None,
        memory_formats=formats, precisions=precisions,
        onnxruntime=False if args.no_onnxruntime else None, malloc=args.malloc)


def main(argv: Optional[List[str]] = None) -> None:
    s = parse_args(argv)
    malloc = 'glibc defaults'
    if s.malloc == 'keep':
        from cpn_mm.utils import keep_freed_memory
        malloc = 'freed memory kept (keep_freed_memory)' if keep_freed_memory() else \
            'glibc defaults (keep_freed_memory unsupported here)'
    torch.set_num_threads(s.threads)
    import cv2
    cv2.setNumThreads(s.threads)
    from mmengine.logging import MMLogger
    from mmpose.utils import register_all_modules

    import cpn_mm  # noqa: F401
    from cpn_mm.utils.precision import cpu_bf16_support
    MMLogger.get_instance('cpn_mm_benchmark', log_level='WARNING')  # no init_weights report
    register_all_modules()

    t0 = time.perf_counter()
    tables: List[Table] = []
    for name in s.sections:
        tables += SECTIONS[name](s)
    support = cpu_bf16_support()
    bf16 = f'native bfloat16: {support}' if support != 'none' else \
        'no native bfloat16 (emulated: bf16 is slower than fp32 here)'
    print(f'\nMachine: {cpu_name()} ({platform.machine()}), {bf16}, {torch.get_num_threads()} '
          f'torch threads, {cv2.getNumThreads()} OpenCV threads, torch {torch.__version__}, '
          f'malloc: {malloc}, {"quick" if s.quick else "full"} run, medians of the repeats '
          f'given per table ({time.perf_counter() - t0:.0f} s)\n')
    print_tables(tables)


if __name__ == '__main__':
    main()
