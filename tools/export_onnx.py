# Copyright (c) cpn_mm authors. All rights reserved.
"""Export CPN (backbone + GlobalNet + RefineNet -> refined heatmaps) to ONNX and verify it.

    .venv/bin/python tools/export_onnx.py CONFIG CHECKPOINT [--out cpn.onnx] [--opset 17]
        [--verify-ann data/coco_sample/test_coco.json] [--atol 1e-3] [--no-verify]

The graph: input ``input`` (B, 3, h, w) float32, the person crop after the model's data
preprocessor (RGB, ``(x - mean) / std``; h, w = the codec's ``input_size``), output ``heatmaps``
(B, K, H, W), the RefineNet heatmaps (``model.head.forward(model.extract_feat(input))``, what
``mode='tensor'`` returns). The batch axis is dynamic. Decoding stays in Python: the codec's
``batch_decode`` (tf-cpn's blur + quarter-offset), shared by PyTorch and ONNX outputs.

Exporter: the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``), which needs
nothing beyond torch and works offline; torch >= 2.9 defaults to the dynamo exporter, which needs
``onnxscript`` and is not used here.

Verification (unless ``--no-verify``): the crops of every person box in ``--verify-ann`` (a COCO
keypoint annotation file; its images are looked up next to it; default: the embedded sample)
go through PyTorch and onnxruntime; the tool fails unless the heatmaps' maximum absolute
difference is below ``--atol`` and the decoded keypoints are identical.

The exported file runs in ``tools/demo.py --backend onnxruntime --onnx FILE`` (flip test and
decoding as with PyTorch). The work is done by :func:`cpn_mm.apis.export_onnx` and
:func:`cpn_mm.apis.verify_onnx`.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

from cpn_mm.apis import init_model, sample_crops
from cpn_mm.runtime import export_onnx, require_onnx, verify_onnx
from cpn_mm.utils import InputError, check_file

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import flags_of  # noqa: E402

SAMPLE_ANN = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'coco_sample',
                      'test_coco.json')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument('--out', default=None,
                        help='ONNX file (default work_dirs/onnx/<config name>.onnx)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset version')
    parser.add_argument('--verify-ann', default=SAMPLE_ANN,
                        help='COCO keypoint annotations whose person boxes are the test crops')
    parser.add_argument('--atol', type=float, default=1e-3,
                        help='maximum absolute heatmap difference allowed')
    parser.add_argument('--no-verify', action='store_true', help='skip the onnxruntime check')
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace) -> Dict[str, object]:
    """Export (and verify); returns ``onnx`` (the file) and the parity report."""
    check_file(args.config, 'config')
    check_file(args.checkpoint, 'checkpoint')
    require_onnx(runtime=not args.no_verify)
    model = init_model(args.config, args.checkpoint, 'cpu', dtype='float32')
    out = args.out or osp.join('work_dirs', 'onnx',
                               osp.splitext(osp.basename(args.config))[0] + '.onnx')
    export_onnx(model, out, args.opset)
    summary: Dict[str, object] = dict(onnx=out)
    print(f'ONNX: {out}')
    if not args.no_verify:
        report = verify_onnx(model, out, sample_crops(model, args.verify_ann, 'verify_ann'),
                             args.atol)
        summary.update(report)
        print(f'onnxruntime vs PyTorch on {report["num_crops"]} crops: max |heatmap diff| '
              f'{report["max_abs_diff"]:.2e} (< {args.atol}), decoded keypoints identical')
    return summary


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    """The command line: errors in the arguments or inputs exit with status 2 and a message."""
    args = parse_args(argv)
    try:
        return run(args)
    except InputError as e:  # the library names its parameters: show our options instead
        print(f'error: {e.for_command_line(flags_of(build_parser(), onnx_file="--out"))}',
              file=sys.stderr)
        raise SystemExit(2)


if __name__ == '__main__':
    main()
