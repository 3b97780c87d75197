# Copyright (c) cpn_mm authors. All rights reserved.
"""Test (evaluate) a CPN checkpoint: MMPose's ``tools/test.py`` with cpn_mm registered.

Same options as MMPose's (``--work-dir``, ``--out``, ``--dump``, ``--show-dir``,
``--cfg-options``, ``--launcher``); runs without CUDA use gloo for ``--launcher pytorch``.
Inference in bfloat16 (autocast; heatmaps decoded in float32) is the config's
``model.test_cfg.dtype`` (:class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`):

    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT [--dump results.pkl]
    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT \\
        --cfg-options model.test_cfg.dtype=bfloat16

Other inference paths (the runner's model becomes a backend around the config's model,
``cpn_mm.runtime.runtime_config``; see docs/inference.md), with the same pipeline, flip test,
decoding and evaluator:

    --backend pytorch|onnxruntime|openvino|auto   (default pytorch)
    --precision f32|bf16|int8|default              (default: the backend's best, see docs)
    --onnx FILE        an export (tools/export_onnx.py) or an int8 file (tools/quantize.py);
                       without it the checkpoint is exported to <work-dir>/deploy/ first
    --compile          torch.compile the PyTorch model (compilation time is logged)
    --threads N        threads of ONNX Runtime / OpenVINO

The tool keeps glibc's freed memory in the process (``cpn_mm.utils.keep_freed_memory``: the
next batch reuses it instead of page-faulting its activations anew), as the benchmark measures.
"""
import argparse
import sys
from typing import List, Optional

import cpn_mm  # noqa: F401  (registers cpn_mm, allows MMEngine checkpoints in torch.load)
from cpn_mm.runtime import BACKENDS, runtime_config
from cpn_mm.utils import InputError, check_file, keep_freed_memory, run_mmpose_tool


def backend_parser() -> argparse.ArgumentParser:
    """cpn_mm's options, taken out of the command line before MMPose's parser reads it."""
    parser = argparse.ArgumentParser(
        add_help=False, usage='test.py CONFIG CHECKPOINT [MMPose options] [inference path]',
        description='inference path (cpn_mm; the MMPose options follow):')
    parser.add_argument('--backend', choices=BACKENDS, default='pytorch',
                        help='what computes the heatmaps (default pytorch)')
    parser.add_argument('--precision', default=None,
                        help="f32, bf16, int8 or default (OpenVINO's own); default: the "
                        "backend's best")
    parser.add_argument('--onnx', default=None,
                        help='an export (tools/export_onnx.py) or an int8 file '
                        '(tools/quantize.py); default: export to <work-dir>/deploy/')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model')
    parser.add_argument('--threads', type=int, default=None,
                        help='threads of ONNX Runtime / OpenVINO')
    return parser


FLAGS = dict(backend='--backend', precision='--precision', onnx_file='--onnx',
             compile='--compile', checkpoint='checkpoint')


def check_args(args) -> None:
    """Fail with a message, not a traceback, when the checkpoint file is missing."""
    try:
        check_file(args.checkpoint, 'checkpoint')
    except InputError as e:
        raise SystemExit(f'error: {e.for_command_line(FLAGS)}')


def runtime_model(ours: argparse.Namespace):
    """A function turning the config's model into the inference path's
    (:func:`cpn_mm.runtime.runtime_config`), or ``None`` for plain PyTorch (checked here: bad
    values exit with a message naming the option)."""
    if ours.backend == 'pytorch' and ours.precision is None and ours.onnx is None \
            and not ours.compile:
        return None

    def adapt_cfg(cfg) -> None:
        import os.path as osp
        try:
            cfg.model = runtime_config(cfg.model, ours.backend, ours.precision, ours.onnx,
                                       osp.join(cfg.work_dir, 'deploy'), ours.compile,
                                       ours.threads)
        except InputError as e:
            raise SystemExit(f'error: {e.for_command_line(FLAGS)}')

    return adapt_cfg


def main(argv: Optional[List[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if '-h' in argv or '--help' in argv:
        print(backend_parser().format_help())  # MMPose's help follows
    ours, rest = backend_parser().parse_known_args(argv)
    keep_freed_memory()  # process-wide: the application's choice (see the module)
    run_mmpose_tool('test', check_args, runtime_model(ours), argv=rest)


if __name__ == '__main__':
    main()
