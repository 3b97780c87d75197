# Copyright (c) cpn_mm authors. All rights reserved.
"""End to end through the real MMEngine runner on the embedded COCO sample: the main job,
distributed training/testing over gloo, resume, MMPose's own tools with custom_imports (mim:
test_mim.py)."""
import glob
import os.path as osp
import re

import mmengine
import pytest
import torch

from ..helpers import FAST, PY, SAMPLE_CONFIG, TRAIN_FAST, last_metrics, run, tool_main

pytestmark = pytest.mark.e2e


def test_main_job_overfits_sample_to_ap_09(main_job):
    work_dir, stdout = main_job
    ap_gt = float(re.search(r'ground-truth boxes: ([0-9.]+)', stdout).group(1))
    ap_det = float(re.search(r'detected boxes: +([0-9.]+)', stdout).group(1))
    assert ap_gt >= 0.9, stdout[-2000:]
    assert 0 < ap_det <= 1
    # the printed AP is CocoMetric's, as logged by the runner
    assert last_metrics(work_dir)['coco/AP'] == pytest.approx(ap_gt, abs=1e-3)
    ckpt = re.search(r'checkpoint: (\S+)', stdout).group(1)
    picture = re.search(r'pictures: +(\S+)', stdout).group(1)
    assert osp.isfile(ckpt) and osp.getsize(picture) > 10_000
    import cv2
    img = cv2.imread(picture)
    assert img is not None and img.shape[0] == 360 and img.std() > 10


def test_dist_train_two_processes_same_parameters(tmp_path):
    work_dir = str(tmp_path)
    # every rank saves its parameters after training (a hook imported with the config); the
    # sample config's CPU hooks convert the DDP-wrapped model to channels_last
    cfg_file = tmp_path / 'dist_config.py'
    cfg_file.write_text(
        f"_base_ = ['{SAMPLE_CONFIG}']\n"
        "custom_imports = dict(imports=['cpn_mm', 'tests.helpers.hooks'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='ChannelsLastHook'), dict(type='KeepFreedMemoryHook'),\n"
        "                dict(type='SyncBuffersHook'), dict(type='DumpRankParamsHook')]\n")
    run([
        'bash', 'tools/dist_train.sh', str(cfg_file), '2', '--work-dir', work_dir,
        '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2', 'train_dataloader.batch_size=6',
        'default_hooks.checkpoint.interval=2', 'default_hooks.checkpoint.save_best=None',
        *TRAIN_FAST
    ], env=dict(PORT='29611', PYTHON=PY), timeout=300)
    saved = torch.load(osp.join(work_dir, 'epoch_2.pth'), map_location='cpu')
    assert saved['meta']['iter'] == 2  # 12 persons, 2 ranks x 6 per iteration
    r0 = torch.load(osp.join(work_dir, 'rank0_params.pth'))
    r1 = torch.load(osp.join(work_dir, 'rank1_params.pth'))
    assert set(saved['state_dict']) == set(r0) == set(r1)
    conv = 'backbone.layer1.0.conv1.weight'  # a 3x3 conv: trained in channels_last on both ranks
    assert r0[conv].dim() == 4 and r0[conv].shape[-1] == 3
    assert r0[conv].is_contiguous(memory_format=torch.channels_last)
    assert not r0[conv].is_contiguous()
    for k, v in saved['state_dict'].items():
        if k.endswith('num_batches_tracked'):
            continue
        torch.testing.assert_close(v, r0[k], msg=k)
        torch.testing.assert_close(v, r1[k], msg=k)


def test_dist_test_equals_single_process(sample_checkpoint, reference, tmp_path):
    """tools/dist_test.sh with 2 processes: the metrics of the single-process evaluation
    (the session's float32 reference, detected boxes)."""
    config, ckpt = sample_checkpoint
    dist = str(tmp_path / 'dist.json')
    run(['bash', 'tools/dist_test.sh', config, ckpt, '2', '--work-dir',
         str(tmp_path / 'd'), '--out', dist, '--cfg-options', *FAST],
        env=dict(PORT='29612', PYTHON=PY))
    single = reference[False]['metrics']
    assert single['coco/AP'] > 0
    assert mmengine.load(dist) == pytest.approx(single, abs=1e-6)


def test_resume_restores_iteration_optimizer_and_scheduler(tmp_path):
    """A run stopped after its first checkpoint and resumed ends like an uninterrupted one
    (tools/train.py's main in this process; its command line runs in the distributed and
    Slurm tests)."""
    common = ['--no-validate', '--cfg-options', 'default_hooks.checkpoint.save_best=None',
              'default_hooks.checkpoint.interval=2', 'randomness.seed=0', *TRAIN_FAST]
    full, part = str(tmp_path / 'full'), str(tmp_path / 'part')
    tool_main('train.py', SAMPLE_CONFIG, '--work-dir', full, *common, 'train_cfg.max_epochs=4')
    # "stopped" after the first checkpoint: the same schedule, ending at epoch 2
    tool_main('train.py', SAMPLE_CONFIG, '--work-dir', part, *common, 'train_cfg.max_epochs=2')
    # its own experiment name: runners started in one second otherwise share a logger
    tool_main('train.py', SAMPLE_CONFIG, '--work-dir', part, '--resume', *common,
              'train_cfg.max_epochs=4', 'experiment_name=resumed_run')
    logs = sorted(glob.glob(osp.join(part, '*', '*.log')))  # by timestamp
    assert len(logs) == 2, logs
    with open(logs[-1]) as f:
        assert 'resumed' in f.read().lower()
    a = torch.load(osp.join(full, 'epoch_4.pth'), map_location='cpu')
    b = torch.load(osp.join(part, 'epoch_4.pth'), map_location='cpu')
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    assert a['meta']['epoch'] == b['meta']['epoch'] == 4
    # Adam's step count continues from the checkpoint (4, not 2: the optimizer was restored)
    steps = {int(s['step']) for s in b['optimizer']['state'].values()}
    assert steps == {4}
    # warm-up learning rate at iteration 4 and the schedulers' state match the full run
    assert b['optimizer']['param_groups'][0]['lr'] == pytest.approx(
        a['optimizer']['param_groups'][0]['lr'], rel=1e-9)
    assert a['optimizer']['param_groups'][0]['lr'] < 3e-3  # still warming up
    assert [s['last_step'] for s in a['param_schedulers']] == \
        [s['last_step'] for s in b['param_schedulers']]


def test_mmpose_own_tools_with_custom_imports(tmp_path):
    """MMPose's installed tools/train.py (its command line, a fresh process) trains and
    evaluates a config that only reaches our types through ``custom_imports``."""
    import mmpose
    tools = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools')
    cfg_file = tmp_path / 'mmpose_user_config.py'
    cfg_file.write_text(
        f"_base_ = ['{SAMPLE_CONFIG}']\n"
        "custom_imports = dict(imports=['cpn_mm'], allow_failed_imports=False)\n"
        "train_cfg = dict(max_epochs=1, val_interval=1)\n"
        "default_hooks = dict(checkpoint=dict(interval=1, save_best=None))\n")
    work_dir = str(tmp_path / 'work')
    run([PY, osp.join(tools, 'train.py'), str(cfg_file), '--work-dir', work_dir,
         '--cfg-options', *FAST])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert 'coco/AP' in last_metrics(work_dir)  # CocoMetric ran on the CPN predictions
