# Copyright (c) cpn_mm authors. All rights reserved.
"""Accuracy of bfloat16 against float32 on the embedded COCO sample (benchmarks/README.md).

    python benchmarks/accuracy.py inference CONFIG CHECKPOINT
    python benchmarks/accuracy.py curve FP32_WORK_DIR AMP_WORK_DIR

``inference``: the checkpoint evaluated by MMEngine's runner (the config's test pipeline and
``CocoMetric``) with ground-truth boxes and with the sample's detected boxes, once with
``model.test_cfg.dtype='float32'`` and once with ``'bfloat16'``; prints COCO AP of each, the
displacement of every keypoint between the two (image pixels: median, 99th percentile and
maximum over all boxes and keypoints, and how many moved by more than 0.01 px) and the largest
keypoint-score difference.

``curve``: two training runs of the same config (e.g. ``tools/train.py`` without and with
``--amp``), read from their ``vis_data/scalars.json``: the losses per logged iteration and the
validation AP, side by side.
"""
import argparse
import glob
import json
import os.path as osp
import tempfile
from typing import Dict, List, Optional

import numpy as np


def evaluate(config: str, checkpoint: str, dtype: str, gt_boxes: bool, work_dir: str):
    """(COCO AP, keypoints (N, K, 2), scores (N, K)) of one test run, instances sorted by id
    (:func:`cpn_mm.apis.evaluation.evaluate` at ``dtype``)."""
    from cpn_mm.apis.evaluation import evaluate as run_test
    result = run_test(config, checkpoint, work_dir, gt_boxes,
                      precision={'float32': 'f32', 'bfloat16': 'bf16'}[dtype])
    return result['AP'], result['keypoints'], result['scores']


def inference(config: str, checkpoint: str) -> List[str]:
    rows = ['| boxes | AP float32 | AP bfloat16 | AP difference | keypoint displacement median '
            '/ 99th percentile / max (px) | keypoints moved | max keypoint-score difference |',
            '|---|---:|---:|---:|---:|---:|---:|']
    with tempfile.TemporaryDirectory() as tmp:
        for gt in (True, False):
            ap32, k32, s32 = evaluate(config, checkpoint, 'float32', gt, osp.join(tmp, 'a'))
            ap16, k16, s16 = evaluate(config, checkpoint, 'bfloat16', gt, osp.join(tmp, 'b'))
            d = np.linalg.norm(k16 - k32, axis=-1)
            rows.append(f'| {"ground truth" if gt else "detected (AP_H 56)"} '
                        f'({k32.shape[0]} instances) | {ap32:.4f} | {ap16:.4f} | '
                        f'{ap16 - ap32:+.4f} | {np.median(d):.2f} / {np.percentile(d, 99):.2f} / '
                        f'{d.max():.2f} | {(d > 0.01).sum()} of {d.size} | '
                        f'{np.abs(s16 - s32).max():.4f} |')
    return rows


def scalars(work_dir: str) -> List[Dict[str, float]]:
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise SystemExit(f'error: no */vis_data/scalars.json under {work_dir!r}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f]


def curve(fp32_dir: str, amp_dir: str) -> List[str]:
    a, b = scalars(fp32_dir), scalars(amp_dir)
    train_a = {r['step']: r for r in a if 'loss' in r}
    train_b = {r['step']: r for r in b if 'loss' in r}
    rows = ['| iteration | loss fp32 | loss bf16 (--amp) | loss_refine fp32 | '
            'loss_refine bf16 | acc_pose fp32 | acc_pose bf16 |',
            '|---:|---:|---:|---:|---:|---:|---:|']
    for step in sorted(set(train_a) & set(train_b)):
        x, y = train_a[step], train_b[step]
        rows.append(f'| {step} | {x["loss"]:.1f} | {y["loss"]:.1f} | {x["loss_refine"]:.1f} | '
                    f'{y["loss_refine"]:.1f} | {x["acc_pose"]:.3f} | {y["acc_pose"]:.3f} |')
    val_a = [r for r in a if 'coco/AP' in r]
    val_b = [r for r in b if 'coco/AP' in r]
    rows += ['', '| validation (ground-truth boxes), epoch | AP fp32 | AP bf16 (--amp) |',
             '|---:|---:|---:|']
    for x, y in zip(val_a, val_b):
        rows.append(f'| {x["step"]} | {x["coco/AP"]:.4f} | {y["coco/AP"]:.4f} |')
    return rows


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='what', required=True)
    p = sub.add_parser('inference', help='bfloat16 vs float32 inference on the sample')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p = sub.add_parser('curve', help='training curves of a float32 and an --amp run')
    p.add_argument('fp32_work_dir')
    p.add_argument('amp_work_dir')
    args = parser.parse_args(argv)
    if args.what == 'inference':
        rows = inference(args.config, args.checkpoint)
    else:
        rows = curve(args.fp32_work_dir, args.amp_work_dir)
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
