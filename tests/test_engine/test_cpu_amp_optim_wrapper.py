# Copyright (c) cpn_mm authors. All rights reserved.
"""--amp on a machine without CUDA: CPUAmpOptimWrapper (bfloat16 autocast) through the real
runner and tools/train.py; losses in float32."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmpose.registry import DATASETS, MODELS

from cpn_mm.engine import CPUAmpOptimWrapper
from cpn_mm.utils import adapt_to_device
from ..helpers import SAMPLE_CONFIG, last_metrics, sample_cfg, tool_main

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason='--amp keeps MMEngine\'s AmpOptimWrapper on CUDA')


@pytest.mark.e2e
def test_amp_flag_trains_in_bfloat16_through_train_tool(tmp_path):
    """tools/train.py --amp: the runner builds CPUAmpOptimWrapper, trains two iterations,
    logs the CPU's bfloat16 support once and saves a checkpoint with finite parameters
    (tools/train.py's main in this process)."""
    work_dir = str(tmp_path)
    tool_main('train.py', SAMPLE_CONFIG, '--amp', '--work-dir', work_dir, '--no-validate',
              '--cfg-options', 'train_cfg.max_epochs=2', 'default_hooks.checkpoint.save_best=None',
              'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
              'train_dataloader.dataset.datasets.0.times=1', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False', 'experiment_name=amp_run')
    (log_file, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(log_file) as f:
        log = f.read()
    assert log.count('CPUAmpOptimWrapper: ') == 1
    assert 'bfloat16' in log
    dumped = Config.fromfile(glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py'))[0])
    assert dumped.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert dumped.optim_wrapper.dtype == 'bfloat16' and 'loss_scale' not in dumped.optim_wrapper
    ckpt = torch.load(osp.join(work_dir, 'epoch_2.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    assert all(v.dtype != torch.bfloat16 for v in ckpt['state_dict'].values())  # FP32 master
    metrics = last_metrics(work_dir, 'loss_refine')
    assert 0 < metrics['loss_refine'] < 1e4 and 0 < metrics['loss_global'] < 1e4


def test_train_step_under_cpu_amp(tmp_path):
    """One train_step on the real sample batch: convolutions (the head's included) in
    bfloat16, the losses (which read their heatmaps in float32) and every gradient in
    float32."""
    cfg = sample_cfg(str(tmp_path), 1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    wrapper = build_optim_wrapper(
        model, dict(type='CPUAmpOptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
    assert isinstance(wrapper, CPUAmpOptimWrapper)
    dtypes = {}

    def record(name, index=None):
        def hook(module, inputs, output):  # returns None: the output is kept
            dtypes.setdefault(name, (output if index is None else output[1][0]).dtype)
        return hook

    model.backbone.conv1.register_forward_hook(record('backbone'))
    model.neck.register_forward_hook(record('neck', 1))
    with wrapper.optim_context(model):
        data = model.data_preprocessor(batch, True)
        losses = model._run_forward(data, mode='loss')
        refined = model.head.forward(model.extract_feat(data['inputs']))
    assert dtypes == {'backbone': torch.bfloat16, 'neck': torch.bfloat16}
    assert refined.dtype == torch.bfloat16  # no cast inside the head's forward
    assert losses['loss_global'].dtype == losses['loss_refine'].dtype == torch.float32
    assert 0 <= losses['acc_pose'].item() <= 1
    loss = losses['loss_global'] + losses['loss_refine']
    wrapper.backward(loss)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    before = model.head.final_layer.conv.weight.detach().clone()
    wrapper.step()
    assert not torch.equal(model.head.final_layer.conv.weight, before)


def test_adapt_to_device_amp_config():
    """What --amp writes (MMPose's tools/train.py) becomes CPUAmpOptimWrapper on the CPU."""
    cfg = Config(dict(optim_wrapper=dict(type='AmpOptimWrapper', loss_scale='dynamic',
                                         optimizer=dict(type='Adam', lr=1e-3)),
                      model=dict(type='TopdownPoseEstimator')))
    adapt_to_device(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16' and 'loss_scale' not in cfg.optim_wrapper
    assert cfg.model.type == 'TopdownPoseEstimator'  # the model is left alone
    plain = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='Adam'))))
    adapt_to_device(plain)
    assert plain.optim_wrapper.type == 'OptimWrapper'
    fp16 = Config(dict(optim_wrapper=dict(type='AmpOptimWrapper', dtype='float16')))
    with pytest.raises(ValueError, match='optim_wrapper.dtype'):
        adapt_to_device(fp16)
    with pytest.raises(ValueError, match="`dtype` must be 'bfloat16'"):
        CPUAmpOptimWrapper(dtype='float16', optimizer=torch.optim.SGD([torch.zeros(1)], lr=1))
