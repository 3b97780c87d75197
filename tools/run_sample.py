# Copyright (c) cpn_mm authors. All rights reserved.
"""The main job: train CPN on the embedded real COCO sample on CPU, evaluate COCO AP, draw.

    python tools/run_sample.py [--config CONFIG] [--work-dir DIR] [--epochs N]

Trains ``configs/cpn_r18_coco-sample_192x144.py`` with MMEngine's runner (progress bar and
logs), evaluates COCO keypoint AP on the sample with ground-truth boxes (validation) and with
the shipped person detections (test), writes the checkpoint, draws the predicted skeletons on
the sample images with MMPose's ``PoseLocalVisualizer``, and prints the AP and where the outputs
are.
"""
import argparse
import glob
import os
import os.path as osp

import cpn_mm  # noqa: F401
from cpn_mm.apis import init_model
from cpn_mm.apis.inference import coco_gt_boxes

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=osp.join(REPO, 'configs',
                                                     'cpn_r18_coco-sample_192x144.py'))
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'coco_sample'))
    parser.add_argument('--epochs', type=int, default=None, help='override max_epochs')
    return parser.parse_args()


def draw_predictions(cfg, checkpoint: str, out_dir: str) -> str:
    """Predict on every sample image (its ground-truth boxes) and save one picture each plus
    a montage; returns the montage's path."""
    import cv2
    import mmcv
    import numpy as np
    from mmpose.apis import inference_topdown
    from mmpose.registry import VISUALIZERS
    from mmpose.structures import merge_data_samples

    ds = cfg.val_dataloader.dataset
    model = init_model(cfg, checkpoint, device='cpu')
    visualizer = VISUALIZERS.build(
        dict(type='PoseLocalVisualizer', name='cpn_sample', radius=3, line_width=2))
    visualizer.set_dataset_meta(model.dataset_meta)
    os.makedirs(out_dir, exist_ok=True)
    tiles = []
    for path, boxes in coco_gt_boxes(osp.join(ds.data_root, ds.ann_file)).items():
        result = merge_data_samples(inference_topdown(model, path, boxes))
        image = mmcv.imread(path, channel_order='rgb')
        visualizer.add_datasample(
            'pred', image, data_sample=result, draw_gt=False, draw_bbox=True,
            kpt_thr=0.3, show=False)
        drawn = visualizer.get_image()
        mmcv.imwrite(mmcv.rgb2bgr(drawn), osp.join(out_dir, osp.basename(path)))
        h = 360
        tiles.append(cv2.resize(drawn, (int(drawn.shape[1] * h / drawn.shape[0]), h)))
    montage = osp.join(out_dir, 'predictions.jpg')
    mmcv.imwrite(mmcv.rgb2bgr(np.concatenate(tiles, axis=1)), montage)
    return montage


def main() -> None:
    args = parse_args()
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    if args.epochs is not None:
        cfg.train_cfg.max_epochs = args.epochs
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='TrainProgressBarHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    val_metrics = runner.val_loop.run()
    test_metrics = runner.test()
    checkpoint = osp.join(cfg.work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    if not osp.isfile(checkpoint):
        checkpoint = sorted(glob.glob(osp.join(cfg.work_dir, '*.pth')), key=osp.getmtime)[-1]
    montage = draw_predictions(cfg, checkpoint, osp.join(cfg.work_dir, 'vis'))
    print('\n' + '=' * 72)
    print(f'COCO keypoint AP on the sample, ground-truth boxes: {val_metrics["coco/AP"]:.3f}')
    print(f'COCO keypoint AP on the sample, detected boxes:     {test_metrics["coco/AP"]:.3f}')
    print(f'checkpoint: {checkpoint}')
    print(f'pictures:   {montage} (and one per image in {osp.dirname(montage)})')
    print(f'logs:       {runner.log_dir}')
    print('=' * 72)


if __name__ == '__main__':
    main()
