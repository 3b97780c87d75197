# Copyright (c) cpn_mm authors. All rights reserved.
"""Test (evaluate) a CPN checkpoint: MMPose's ``tools/test.py`` with cpn_mm registered.

Same options as MMPose's (``--work-dir``, ``--out``, ``--dump``, ``--show-dir``,
``--cfg-options``, ``--launcher``); runs without CUDA use gloo for ``--launcher pytorch``.
Inference in bfloat16 (autocast; heatmaps decoded in float32) is the config's
``model.test_cfg.dtype`` (:class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`):

    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT [--dump results.pkl]
    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT \\
        --cfg-options model.test_cfg.dtype=bfloat16

Other inference paths (``cpn_mm.engine.InferenceBackendHook``; see docs/inference.md), with
the same pipeline, flip test, decoding and evaluator:

    --backend pytorch|onnxruntime|openvino|auto   (default pytorch)
    --precision f32|bf16|int8|default              (default: the backend's best, see docs)
    --onnx FILE        an export (tools/export_onnx.py) or an int8 file (tools/quantize.py);
                       without it the checkpoint is exported to <work-dir>/deploy/ first
    --compile          torch.compile the PyTorch model (compilation time is logged)
    --threads N        threads of ONNX Runtime / OpenVINO
"""
import argparse
import sys
from typing import List, Optional

import cpn_mm  # noqa: F401  (registers cpn_mm, allows MMEngine checkpoints in torch.load)
from cpn_mm.apis import InputError
from cpn_mm.apis.inference import check_file
from cpn_mm.apis.runtime import BACKENDS, choose_backend
from cpn_mm.utils import run_mmpose_tool


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


def backend_hook(ours: argparse.Namespace):
    """A function adding ``InferenceBackendHook`` to the config, or ``None`` for plain PyTorch
    (checked here: bad values exit with a message naming the option)."""
    if ours.backend == 'pytorch' and ours.precision is None and ours.onnx is None \
            and not ours.compile:
        return None
    try:
        check_file(ours.onnx, 'onnx_file')
        choose_backend(ours.backend, 'cpu', ours.onnx, ours.precision)
    except InputError as e:
        raise SystemExit(f'error: {e.for_command_line(FLAGS)}')
    hook = dict(type='InferenceBackendHook', backend=ours.backend, precision=ours.precision,
                onnx_file=ours.onnx, compile=ours.compile, threads=ours.threads)

    def adapt_cfg(cfg) -> None:
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [hook]

    return adapt_cfg


def main(argv: Optional[List[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if '-h' in argv or '--help' in argv:
        print(backend_parser().format_help())  # MMPose's help follows
    ours, rest = backend_parser().parse_known_args(argv)
    run_mmpose_tool('test', check_args, backend_hook(ours), argv=rest)


if __name__ == '__main__':
    main()
