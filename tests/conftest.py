# Copyright (c) cpn_mm authors. All rights reserved.
"""Session fixtures; what the tests share otherwise is in ``tests/helpers``."""
import os.path as osp

import pytest

from .helpers import PY, SAMPLE_CONFIG, run, sample_cfg


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmpose.utils import register_all_modules

    import cpn_mm  # noqa: F401  (registers the modules)
    register_all_modules()


@pytest.fixture(scope='session')
def sample_checkpoint(tmp_path_factory):
    """(config path, checkpoint path) of the sample config trained for 3 epochs (seconds)."""
    from mmengine.runner import Runner
    work_dir = str(tmp_path_factory.mktemp('sample_ckpt'))
    cfg = sample_cfg(work_dir, 3, val_cfg=None, val_dataloader=None, val_evaluator=None)
    Runner.from_cfg(cfg).train()
    return SAMPLE_CONFIG, osp.join(work_dir, 'epoch_3.pth')


@pytest.fixture(scope='session')
def main_job(tmp_path_factory):
    """The README's main job (tools/run_sample.py): train on the sample, evaluate, draw."""
    work_dir = str(tmp_path_factory.mktemp('main_job'))
    proc = run([PY, 'tools/run_sample.py', '--work-dir', work_dir], timeout=600)
    return work_dir, proc.stdout
