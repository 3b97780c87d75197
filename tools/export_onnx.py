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
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
for p in (REPO, osp.dirname(osp.abspath(__file__))):
    if p not in sys.path:
        sys.path.insert(0, p)

SAMPLE_ANN = osp.join(REPO, 'data', 'coco_sample', 'test_coco.json')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def require_onnx(verify: bool = True) -> None:
    """Fail with an installation hint if onnx (and onnxruntime for verification) is missing."""
    missing = []
    for name in ('onnx', ) + (('onnxruntime', ) if verify else ()):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise SystemExit(f'error: {" and ".join(missing)} not installed; install with '
                         f'`.venv/bin/python -m pip install {" ".join(missing)}` '
                         '(see requirements/tests.txt)')


def heatmap_module(model):
    """``nn.Module`` mapping preprocessed crops (B, 3, h, w) to refined heatmaps (B, K, H, W)."""
    import torch

    class CPNHeatmaps(torch.nn.Module):

        def __init__(self, pose_model):
            super().__init__()
            self.pose_model = pose_model

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return self.pose_model.head.forward(self.pose_model.extract_feat(inputs))

    return CPNHeatmaps(model).eval()


def export(model, out: str, input_size, opset: int = 17) -> str:
    """Export with a dynamic batch axis (TorchScript exporter, ``dynamo=False``)."""
    import torch
    w, h = input_size
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    dummy = torch.zeros(2, 3, h, w)
    with torch.no_grad():
        torch.onnx.export(
            heatmap_module(model), (dummy, ), out,
            input_names=['input'], output_names=['heatmaps'],
            dynamic_axes={'input': {0: 'batch'}, 'heatmaps': {0: 'batch'}},
            opset_version=opset, do_constant_folding=True, dynamo=False)
    import onnx
    onnx.checker.check_model(onnx.load(out))
    return out


def sample_crops(model, ann_file: str):
    """Preprocessed crops (N, 3, h, w) of every annotated person box of a COCO file."""
    from vis_heatmaps import prepare_crops
    if not osp.isfile(ann_file):
        raise SystemExit(f'error: --verify-ann {ann_file!r} does not exist')
    with open(ann_file) as f:
        coco = json.load(f)
    inputs = []
    for img in coco['images']:
        boxes = np.array([a['bbox'] for a in coco['annotations']
                          if a['image_id'] == img['id'] and a.get('num_keypoints', 1) > 0],
                         dtype=np.float32).reshape(-1, 4)
        if len(boxes):
            boxes[:, 2:] += boxes[:, :2]
            path = osp.join(osp.dirname(ann_file), img['file_name'])
            inputs.append(prepare_crops(model, path, boxes)[0])
    if not inputs:
        raise SystemExit(f'error: --verify-ann {ann_file!r} has no person box')
    import torch
    return torch.cat(inputs)


def verify(model, onnx_file: str, inputs, atol: float = 1e-3) -> Dict[str, float]:
    """Compare PyTorch and onnxruntime heatmaps and decoded keypoints on ``inputs``.

    Returns:
        dict: ``num_crops``, ``max_abs_diff`` (heatmaps), ``num_keypoints_differing``,
        ``max_score_diff``; raises ``AssertionError`` if the export is not faithful.
    """
    import onnxruntime as ort
    import torch
    with torch.no_grad():
        ref = heatmap_module(model)(inputs).cpu().numpy()
    sess = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    got = sess.run(['heatmaps'], {'input': inputs.cpu().numpy()})[0]
    codec = model.head.decoder
    k_ref, s_ref = codec.batch_decode(ref)
    k_got, s_got = codec.batch_decode(got)
    report = dict(
        num_crops=int(inputs.shape[0]),
        max_abs_diff=float(np.abs(ref - got).max()),
        num_keypoints_differing=int((k_ref != k_got).any(-1).sum()),
        max_score_diff=float(np.abs(s_ref - s_got).max()))
    if report['max_abs_diff'] >= atol or report['num_keypoints_differing']:
        raise AssertionError(f'ONNX export differs from PyTorch: {report} (atol {atol})')
    return report


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    for name, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise SystemExit(f'error: {name} {path!r} does not exist or is not a file')
    require_onnx(verify=not args.no_verify)
    from vis_heatmaps import load_model
    model = load_model(args.config, args.checkpoint, 'cpu')
    out = args.out or osp.join('work_dirs', 'onnx',
                               osp.splitext(osp.basename(args.config))[0] + '.onnx')
    export(model, out, model.head.decoder.input_size, args.opset)
    summary: Dict[str, object] = dict(onnx=out)
    print(f'ONNX: {out}')
    if not args.no_verify:
        report = verify(model, out, sample_crops(model, args.verify_ann), args.atol)
        summary.update(report)
        print(f'onnxruntime vs PyTorch on {report["num_crops"]} crops: max |heatmap diff| '
              f'{report["max_abs_diff"]:.2e} (< {args.atol}), decoded keypoints identical')
    return summary


if __name__ == '__main__':
    main()
