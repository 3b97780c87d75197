# Copyright (c) cpn_mm authors. All rights reserved.
"""Side-by-side speed figures of cpn_mm against MMPose's own modules, in one run.

    python benchmarks/run.py            # full run (see README "Speed")
    python benchmarks/run.py --quick    # smoke run (CI's tests use it)

Contenders are interleaved (A, B, A, B, ...) and each figure is the median of the repeats;
the thread count is pinned and printed. Prints a markdown table.
"""
import argparse
import platform
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
import torch


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


def bench_targets(repeats: int) -> List[tuple]:
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

    t = timeit({'ours': run(ours), 'mmpose': run(theirs)}, repeats * 20)
    return [('targets per instance (K=17, 64x48)', 'MultiSigmaHeatmap (5 maps)',
             'GenerateTarget + 4x MegviiHeatmap', t['ours'], t['mmpose'])]


def bench_ohkm(repeats: int) -> List[tuple]:
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

    t = timeit({'ours': run(ours), 'mmpose': run(theirs)}, repeats)
    return [('OHKM loss fwd+bwd (B=64, K=17, 64x48)', 'OHKMMaskedMSELoss',
             'KeypointOHKMMSELoss', t['ours'], t['mmpose'])]


SECTIONS = {'targets': bench_targets, 'ohkm': bench_ohkm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='few repeats (smoke run)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads (pinned)')
    parser.add_argument('--only', nargs='+', choices=sorted(SECTIONS), default=None,
                        help='run only these sections')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import cpn_mm  # noqa: F401
    from mmpose.utils import register_all_modules
    register_all_modules()
    repeats = 3 if args.quick else 15
    rows = []
    for name in args.only or SECTIONS:
        rows += SECTIONS[name](repeats)
    print(f'\nMachine: {platform.processor() or platform.machine()}, '
          f'{torch.get_num_threads()} torch threads, torch {torch.__version__}, '
          f'{"quick" if args.quick else "full"} run, medians of {repeats}+ repeats\n')
    print('| what | cpn_mm | MMPose | cpn_mm (ms) | MMPose (ms) | speed-up |')
    print('|---|---|---|---:|---:|---:|')
    for what, a, b, ta, tb in rows:
        print(f'| {what} | {a} | {b} | {ta * 1e3:.3f} | {tb * 1e3:.3f} | {tb / ta:.1f}x |')


if __name__ == '__main__':
    main()
