# Copyright (c) cpn_mm authors. All rights reserved.
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE = osp.join(REPO, 'data', 'coco_sample')


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmpose.utils import register_all_modules

    import cpn_mm  # noqa: F401  (registers the modules)
    register_all_modules()

SAMPLE_CONFIG = osp.join(REPO, 'configs', 'cpn_r18_coco-sample_192x144.py')


def sample_cfg(work_dir: str, epochs: int, **overrides):
    """The embedded-sample config, without worker processes, for in-process runs."""
    from mmengine.config import Config
    cfg = Config.fromfile(SAMPLE_CONFIG)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = max(epochs, 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_dataloader.dataset.times = 1  # one iteration per epoch
    cfg.merge_from_dict(overrides)
    return cfg


@pytest.fixture(scope='session')
def sample_checkpoint(tmp_path_factory):
    """(config path, checkpoint path) of the sample config trained for 3 epochs (seconds)."""
    from mmengine.runner import Runner
    work_dir = str(tmp_path_factory.mktemp('sample_ckpt'))
    cfg = sample_cfg(work_dir, 3, val_cfg=None, val_dataloader=None, val_evaluator=None)
    Runner.from_cfg(cfg).train()
    return SAMPLE_CONFIG, osp.join(work_dir, 'epoch_3.pth')
