# Copyright (c) cpn_mm authors. All rights reserved.
"""int8 post-training quantization of a CPN checkpoint, calibrated on your crops.

    .venv/bin/python tools/quantize.py CONFIG CHECKPOINT --calib ANN_JSON|IMAGE_FOLDER
        [--num-calib N] [--out cpn_int8.onnx] [--onnx FP32_ONNX] [--method minmax]
        [--eval] [--work-dir DIR]

The checkpoint is exported to ONNX (float32, ``tools/export_onnx.py``; or ``--onnx`` is used)
and quantized by ONNX Runtime's static quantization (QDQ: int8 weights per output channel,
uint8 activations) with activation ranges from the calibration crops: every person box with a
labelled keypoint of a COCO keypoint annotation file (its images next to it), or the images of
a folder (each image one person crop), through the config's test pipeline, each with its
horizontal flip. The int8 file runs in ``tools/demo.py``, ``tools/test.py`` and the API with
``--backend openvino --precision int8 --onnx FILE`` (or ``onnxruntime``).

Printed: the calibration set size, then the accuracy: how far the int8 keypoints (ONNX Runtime,
and OpenVINO where installed; no flip test) are from PyTorch float32's on the calibration crops
(crop pixels), and with ``--eval`` the COCO AP of the config's test set with float32 PyTorch
and int8 OpenVINO (or ONNX Runtime), ground-truth boxes and the config's detected boxes.
The work is done by :func:`cpn_mm.apis.calibration_crops` and :func:`cpn_mm.apis.quantize_onnx`.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

from cpn_mm.apis import calibration_crops, init_model
from cpn_mm.runtime import (CALIBRATION_METHODS, OnnxRuntimeBackend, OpenVINOBackend, export_onnx,
                            keypoint_agreement, openvino_available, quantize_onnx)
from cpn_mm.utils import InputError, check_file

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import flags_of  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument('--calib', required=True,
                        help='calibration crops: a COCO keypoint annotation file or an image '
                        'folder')
    parser.add_argument('--num-calib', type=int, default=None,
                        help='use the first N crops (default: all)')
    parser.add_argument('--out', default=None,
                        help='int8 ONNX file (default work_dirs/onnx/<config name>_int8.onnx)')
    parser.add_argument('--onnx', default=None,
                        help='the float32 export to quantize (default: export the checkpoint '
                        'next to --out)')
    parser.add_argument('--method', default='minmax', choices=CALIBRATION_METHODS,
                        help='how activation ranges are calibrated')
    parser.add_argument('--eval', action='store_true',
                        help="also report COCO AP on the config's test set, float32 vs int8")
    parser.add_argument('--work-dir', default='work_dirs/quantize',
                        help='work directory of the --eval runs')
    return parser


def run(args: argparse.Namespace) -> Dict[str, object]:
    """Export, calibrate, quantize and report; returns the figures printed."""
    for name in ('config', 'checkpoint', 'onnx'):
        check_file(getattr(args, name), name)
    model = init_model(args.config, args.checkpoint, 'cpu', dtype='float32')
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', 'onnx', f'{name}_int8.onnx')
    fp32 = args.onnx or export_onnx(model, osp.join(osp.dirname(osp.abspath(out)),
                                                    f'{name}.onnx'))
    crops = calibration_crops(model, args.calib, args.num_calib, 'calib')
    report = quantize_onnx(fp32, out, crops, args.method)
    print(f'int8: {out} (from {fp32}), calibrated on {report["num_crops"]} crops (and their '
          f'flips) of {args.calib}, method {args.method}')
    runtimes = [OnnxRuntimeBackend(out, model)]
    if openvino_available():
        runtimes.append(OpenVINOBackend(out, model, 'int8'))
    for runtime in runtimes:
        agree = keypoint_agreement(model, runtime, crops)
        report[f'{runtime.name}_keypoints'] = agree
        print(f'{runtime.name} int8 vs PyTorch float32 on the {agree["num_crops"]} calibration '
              f'crops (no flip test): keypoint distance median {agree["median_px"]:.2f} px, max '
              f'{agree["max_px"]:.2f} px, {100 * agree["within_1px"]:.1f}% within 1 px; max '
              f'score difference {agree["max_score_diff"]:.3f}')
    if args.eval:
        from cpn_mm.apis.evaluation import evaluate
        backend = runtimes[-1].name
        for gt in (True, False):
            boxes = 'ground-truth' if gt else 'detected'
            ref = evaluate(args.config, args.checkpoint, osp.join(args.work_dir, 'fp32'), gt)
            got = evaluate(args.config, args.checkpoint, osp.join(args.work_dir, 'int8'), gt,
                           backend, 'int8', out)
            report[f'AP_{boxes}'] = (ref['AP'], got['AP'])
            print(f'COCO AP, {boxes} boxes: PyTorch float32 {ref["AP"]:.4f}, {backend} int8 '
                  f'{got["AP"]:.4f} ({got["AP"] - ref["AP"]:+.4f})')
    return report


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    """The command line: errors in the arguments or inputs exit with status 2 and a message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except InputError as e:  # the library names its parameters: show our options instead
        flags = flags_of(parser, num='--num-calib', onnx_file='--onnx')
        print(f'error: {e.for_command_line(flags)}', file=sys.stderr)
        raise SystemExit(2)


if __name__ == '__main__':
    main()
