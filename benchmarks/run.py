# Copyright (c) cpn_mm authors. All rights reserved.
"""Side-by-side speed figures of cpn_mm against MMPose's own modules and models, in one run.

    python benchmarks/run.py            # full run (tables in benchmarks/README.md)
    python benchmarks/run.py --quick    # smoke run (tests/test_benchmarks.py runs it)
    python benchmarks/run.py --only train infer --threads 2 --precision fp32 bf16
    python benchmarks/run.py --quick --json results.json   # also the data, as JSON

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
  CPN also as it ran before its GlobalNet heatmaps were skipped at inference, and CPN through
  ONNX Runtime (:class:`cpn_mm.apis.OnnxRuntimeBackend`, float32); time and GMACs per crop
  relative to SimpleBaseline-R50; decoding's share of the time.
- ``paths``: CPN-R50 through every CPU inference path (PyTorch eager and ``torch.compile``
  fp32/bf16, ONNX Runtime fp32/int8, OpenVINO f32/bf16/int8) at B=1 and B=32 with flip test,
  against each precision's limits (:mod:`benchmarks.peaks`): the best GEMM of the providers
  present (PyTorch, OpenVINO, ONNX Runtime), measured in the same run, and the ISA's
  theoretical rate (:mod:`benchmarks.paths`). ``--quick`` leaves out the compiled rows
  (compilation takes minutes); ``--no-compile`` does so in a full run.
- ``data``: samples/s of the training pipeline on data/coco_sample, ours against the same
  pipeline with MMPose's MSPN multi-level MegviiHeatmap targets.

The models are built by :mod:`benchmarks.contenders`, measured by :mod:`benchmarks.sections`
(data) and printed by :mod:`benchmarks.render`. Contenders are interleaved (A, B, A, B, ...)
and each figure is the median of the repeats; the thread count (torch, OpenCV, ONNX Runtime)
is pinned and printed with the CPU's bfloat16 support.
"""
import argparse
import json
import os.path as osp
import platform
import sys
import time
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # run as a script: python benchmarks/run.py
    sys.path.insert(0, REPO)

from benchmarks.sections import PRECISIONS, SECTIONS, Settings, run_sections  # noqa: E402


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


MATRIX_FLAGS = ('amx_bf16', 'amx_int8', 'amx_tile', 'avx512_bf16', 'avx512_vnni', 'avx_vnni')


def matrix_isa() -> List[str]:
    """The CPU's matrix-multiply extensions from /proc/cpuinfo (AMX, AVX512-BF16, VNNI)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return [f for f in MATRIX_FLAGS if f in flags]
    except OSError:
        pass
    return []


def parse_args(argv: Optional[List[str]] = None):
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
    parser.add_argument('--no-compile', action='store_true',
                        help='leave out the torch.compile rows of the paths table')
    parser.add_argument('--malloc', choices=['keep', 'default'], default='keep',
                        help='keep: glibc keeps freed memory for reuse (cpn_mm.utils.'
                        'keep_freed_memory, what KeepFreedMemoryHook does), for every '
                        'contender; default: glibc\'s defaults (large blocks mmapped anew)')
    parser.add_argument('--json', default=None, help='also write the data to this JSON file')
    args = parser.parse_args(argv)
    formats = ('channels_last', 'contiguous') if args.memory_format == 'both' else \
        (args.memory_format, )
    precisions = tuple(p for p in PRECISIONS if args.precision is None or p in args.precision)
    settings = Settings.preset(
        args.quick, threads=args.threads, sections=tuple(args.only) if args.only else None,
        memory_formats=formats, precisions=precisions,
        onnxruntime=False if args.no_onnxruntime else None,
        compile=False if args.no_compile else None, malloc=args.malloc)
    return settings, args.json


def run(s: Settings) -> dict:
    """Set the machine up as ``s`` says and run its sections.

    Returns:
        dict: ``machine`` (CPU, bfloat16 support, threads, torch, malloc), ``settings``,
        ``seconds`` and ``tables`` (the sections' data).
    """
    import torch
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
    tables = run_sections(s)
    from benchmarks.peaks import cpu_info
    info = cpu_info()
    return dict(
        machine=dict(cpu=cpu_name(), arch=platform.machine(), cpu_family=info['family'],
                     cpu_model=info['model'], bf16_support=cpu_bf16_support(),
                     matrix_isa=matrix_isa(),
                     torch_threads=torch.get_num_threads(),
                     opencv_threads=cv2.getNumThreads(), torch=torch.__version__,
                     malloc=malloc),
        settings=dict(vars(s), sections=list(s.sections)), seconds=time.perf_counter() - t0,
        tables=tables)


def main(argv: Optional[List[str]] = None) -> dict:
    from benchmarks.render import render
    settings, json_out = parse_args(argv)
    results = run(settings)
    print(render(results))
    if json_out:
        with open(json_out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    main()
