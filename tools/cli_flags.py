# Copyright (c) cpn_mm authors. All rights reserved.
"""The tools' side of the library's errors: a parameter's name as the tool's option.

The library names its parameters in backquotes (:class:`cpn_mm.utils.InputError`); a tool
prints ``error.for_command_line(flags_of(parser))`` instead of a traceback. Imported by the
tools next to it (``tools/`` is on ``sys.path`` when a tool runs as a script).
"""
import argparse
from typing import Dict


def flags_of(parser: argparse.ArgumentParser, **extra: str) -> Dict[str, str]:
    """Parameter name -> option of an ``argparse`` parser (an optional argument by its last
    option string, a positional one by its name), plus ``extra`` parameters of the library's
    own that the command line calls otherwise.

    argparse has no public list of a parser's arguments: its ``_actions`` is read here, the one
    place that does so.
    """
    flags = {a.dest: a.option_strings[-1] if a.option_strings else a.dest
             for a in parser._actions}
    flags.update(extra)
    return flags


def add_box_flags(parser: argparse.ArgumentParser) -> None:
    """Where the person boxes come from (``tools/demo.py``, ``demo_3d.py``,
    ``export_2d_for_lifting.py``): an MMDetection detector, a box JSON, else the whole frame."""
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--det-config', help='MMDetection config of the person detector')
    boxes.add_argument(
        '--bboxes',
        help='COCO-style box JSON: [{"image_id" | "file_name", "bbox": [x, y, w, h], "score", '
        '"category_id"}, ...]; boxes are clipped to the image, boxes without area after '
        'clipping are dropped')
    parser.add_argument(
        '--det-checkpoint',
        default=None,
        help='checkpoint of the detector (with --det-config); random weights if omitted')
    parser.add_argument(
        '--det-cat-id', type=int, default=0, help='detector class id of persons (COCO: 0)')
    parser.add_argument(
        '--bbox-thr', type=float, default=0.3, help='minimum box score (detector or --bboxes)')
    parser.add_argument(
        '--nms-thr', type=float, default=0.3, help='IoU threshold of the detector boxes\' NMS')


def check_box_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--det-checkpoint`` only with ``--det-config`` (an argparse error otherwise)."""
    if args.det_checkpoint is not None and args.det_config is None:
        parser.error('--det-checkpoint needs --det-config')


def add_runtime_flags(parser: argparse.ArgumentParser, backends) -> None:
    """What computes CPN's heatmaps, and in which precision (``cpn_mm.runtime``'s one rule
    decides which backend takes which precision and file)."""
    parser.add_argument('--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--dtype', default=None, choices=['float32', 'bfloat16', 'fp32', 'bf16'],
        help='precision of the pose model (pytorch backend; default: the config\'s '
        'test_cfg.dtype). bfloat16: autocast, heatmaps decoded in float32')
    parser.add_argument(
        '--backend', default='auto', choices=list(backends),
        help='what computes the heatmaps: PyTorch, ONNX Runtime or OpenVINO (CPU); auto: '
        'OpenVINO on the CPU where it is installed, else PyTorch (docs/inference.md)')
    parser.add_argument(
        '--precision', default=None, choices=['f32', 'bf16', 'int8', 'default'],
        help='precision of the backend: f32, bf16 (PyTorch autocast, OpenVINO), int8 (a '
        'quantized --onnx from tools/quantize.py), default (OpenVINO\'s own choice); '
        'default: the backend\'s best (bf16 where the CPU has it, int8 for a quantized file)')
    parser.add_argument(
        '--onnx', default=None,
        help='ONNX file of this config (tools/export_onnx.py, or int8 from tools/quantize.py) '
        'for --backend onnxruntime/openvino; default: export to <out-dir>/<config name>.onnx')
    parser.add_argument(
        '--compile', action='store_true',
        help='torch.compile the PyTorch model (compilation time counts in the timing)')


def add_tracking_flags(parser: argparse.ArgumentParser) -> None:
    """Track ids across frames (``cpn_mm.apis.PoseTracker``)."""
    parser.add_argument('--use-oks-tracking', action='store_true',
                        help='track persons by keypoint similarity instead of box IoU')
    parser.add_argument('--tracking-thr', type=float, default=0.3,
                        help='minimum IoU/OKS to keep a track id')
