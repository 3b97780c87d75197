# Copyright (c) cpn_mm authors. All rights reserved.
"""The Human3.6M configs: cpn_r50_h36m_256x192.py builds without data; the sample
(cpn_r18_h36m-sample_192x144.py, on the COCO sample converted to Human3.6M's joints) trains and
evaluates end to end through MMEngine's runner, and its checkpoint carries the layout."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import Runner
from mmpose.registry import DATASETS, METRICS, MODELS

from ..helpers import REPO, forget_visualizers, last_metrics, tool_main

H36M_CONFIG = osp.join(REPO, 'configs', 'cpn_r50_h36m_256x192.py')
H36M_SAMPLE_CONFIG = osp.join(REPO, 'configs', 'cpn_r18_h36m-sample_192x144.py')


def test_h36m_config_builds_without_data():
    cfg = Config.fromfile(H36M_CONFIG)
    coco = Config.fromfile(osp.join(REPO, 'configs', 'cpn_r50_coco_256x192.py'))
    # the COCO R50 recipe: same model, codec, schedule and pipelines
    assert cfg.model == coco.model and cfg.param_scheduler == coco.param_scheduler
    assert cfg.train_dataloader.dataset.pipeline == coco.train_dataloader.dataset.pipeline
    assert cfg.load_from is None  # fine-tuning from a COCO CPN is the user's choice
    assert cfg.dataset_type == 'CPNH36mDataset'
    assert cfg.train_dataloader.dataset.occlusion_labels is False  # h36m_to_coco.py writes v=1
    for key in ('val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.bbox_file is None  # ground-truth boxes
    assert [m['type'] for m in cfg.val_evaluator] == ['PCKAccuracy', 'EPE']
    assert cfg.default_hooks.checkpoint.save_best == 'PCK'
    for metric in cfg.val_evaluator:
        METRICS.build(metric)
    MODELS.build(cfg.model)
    for key in ('train_dataloader', 'val_dataloader'):
        Compose(cfg[key].dataset.pipeline)
    with pytest.raises(AssertionError, match='annotation_body2d/h36m_coco_train.json'):
        DATASETS.build(cfg.train_dataloader.dataset)


# the sample config for 2 epochs of 10 iterations, validation at the end, no worker processes
SHORT = ['train_cfg.max_epochs=2', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=5',
         'log_processor.window_size=5', 'default_hooks.checkpoint.interval=2',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']


def untrained_metrics(work_dir: str) -> dict:
    """PCK and EPE of the sample config's model as initialised, before any step."""
    cfg = Config.fromfile(H36M_SAMPLE_CONFIG)
    cfg.work_dir = work_dir
    cfg.val_dataloader.num_workers = 0
    cfg.val_dataloader.persistent_workers = False
    cfg.default_hooks.checkpoint.save_best = None  # nothing to save: no training started
    forget_visualizers()
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    return runner.val()


@pytest.mark.e2e
def test_h36m_sample_trains_and_evaluates(tmp_path):
    """tools/train.py (its main, in this process) on the 12 stand-in persons for 20
    iterations: the training loss goes down, PCK on them rises well above the untrained
    model's and EPE falls; the checkpoint carries Human3.6M's layout, which MMPose's init_model
    reads."""
    from mmpose.apis import init_model
    untrained = untrained_metrics(str(tmp_path / 'untrained'))
    work_dir = str(tmp_path / 'trained')
    tool_main('train.py', H36M_SAMPLE_CONFIG, '--work-dir', work_dir, '--cfg-options', *SHORT)
    trained = last_metrics(work_dir, 'PCK')
    assert trained['PCK'] > untrained['PCK'] + 0.2, (untrained, trained)
    assert trained['EPE'] < 0.8 * untrained['EPE'], (untrained, trained)
    losses = [m['loss'] for m in _train_logs(work_dir)]
    assert len(losses) == 4 and losses[-1] < losses[0], losses

    ckpt = osp.join(work_dir, 'epoch_2.pth')
    meta = torch.load(ckpt, map_location='cpu', weights_only=False)['meta']['dataset_meta']
    assert meta['dataset_name'] == 'h36m' and meta['num_keypoints'] == 17
    model = init_model(H36M_SAMPLE_CONFIG, ckpt, device='cpu')
    np.testing.assert_equal(model.dataset_meta, meta)


def _train_logs(work_dir: str) -> list:
    import glob
    import json
    (scalars, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        return [rec for rec in map(json.loads, f) if 'loss' in rec]
