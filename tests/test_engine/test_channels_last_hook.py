# Copyright (c) cpn_mm authors. All rights reserved.
"""ChannelsLastHook changes the memory layout, not the maths, through the real runner.

Training trajectories are compared one step at a time only: channels_last kernels round
differently, and a pre-activation within rounding of zero can take the other ReLU branch, which
moves a gradient by ~1% (tests/helpers/gradients.py), so two runs drift apart as any two float32
runs with different kernels do. The gradients themselves are float32-accurate: checked against
float64 on the same ReLU branches."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from ..helpers import sample_cfg
from ..helpers.gradients import (float64_reference, gradient_deviation, named_gradients,
                                 record_relu_masks, replay_relu_masks)


def _first_step(work_dir, hooks, return_runner=False):
    """One training iteration (one batch of the 12 sample persons) from the seeded init."""
    runner = Runner.from_cfg(
        sample_cfg(str(work_dir), 1, custom_hooks=hooks, randomness=dict(seed=0), val_cfg=None,
                   val_dataloader=None, val_evaluator=None))
    runner.train()
    hub = runner.message_hub
    losses = {k: hub.get_scalar(f'train/{k}').current() for k in ('loss_global', 'loss_refine')}
    return (runner if return_runner else runner.model), losses


def _loss_gradients(model, data, num_samples=4):
    """Gradients of the training loss of the first ``num_samples`` of a loader batch."""
    model.zero_grad(set_to_none=True)
    data = model.data_preprocessor(data, True)
    param = next(model.parameters())
    inputs = data['inputs'][:num_samples].to(param.dtype)
    if param.is_contiguous(memory_format=torch.channels_last) and not param.is_contiguous():
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    loss, _ = model.parse_losses(model(inputs, data['data_samples'][:num_samples], mode='loss'))
    loss.backward()
    return named_gradients(model)


def test_channels_last_hook_float32_gradients_match_float64(tmp_path):
    """The sample model (ResNet-18 CPN) as the hook left it after training, its real loss on
    real sample crops: float32 gradients in channels_last against float64 (contiguous) on the
    same ReLU branches (tests/helpers/gradients.py)."""
    runner, _ = _first_step(tmp_path, [dict(type='ChannelsLastHook')], return_runner=True)
    model = runner.model
    assert model.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not model.backbone.conv1.weight.is_contiguous()
    data = next(iter(runner.train_dataloader))
    ref_model = float64_reference(model)
    masks = record_relu_masks(model)
    grads = _loss_gradients(model, data)
    replay_relu_masks(masks, ref_model)
    ref = _loss_gradients(ref_model, data)
    assert set(grads) == set(ref) and len(ref) > 100
    dev, which = gradient_deviation(grads, ref)
    assert dev < 2e-4, f'{which}: {dev:.1e}'  # measured: 6e-5; other ReLU branches: 1e-1


def test_channels_last_hook_training_step(tmp_path):
    ref_model, ref_losses = _first_step(tmp_path / 'contiguous', [])
    model, losses = _first_step(tmp_path / 'channels_last', [dict(type='ChannelsLastHook')])

    convs = [p for p in model.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    assert not all(p.is_contiguous() for p in convs)  # the 3x3/7x7 weights really changed
    assert all(p.is_contiguous() for p in ref_model.parameters())
    assert ref_losses['loss_global'] > 1  # a real loss (targets peak at 255)
    for name, value in losses.items():
        assert value == pytest.approx(ref_losses[name], rel=1e-5), name


def test_channels_last_hook_test_predictions(sample_checkpoint, reference, tmp_path):
    """runner.test() on the shipped detections from the same checkpoint without the config's
    ChannelsLastHook: the keypoints of the session's reference evaluation, which has it."""
    from cpn_mm.apis.evaluation import evaluate
    config, checkpoint = sample_checkpoint
    cfg = Config.fromfile(config)
    hooks = [h for h in cfg.custom_hooks if h['type'] != 'ChannelsLastHook']
    assert len(hooks) == len(cfg.custom_hooks) - 1  # the reference ran with it
    cfg.custom_hooks = hooks
    got, ref = evaluate(cfg, checkpoint, str(tmp_path), gt_boxes=False), reference[False]
    assert len(got['keypoints']) == len(ref['keypoints']) > 0
    np.testing.assert_allclose(ref['keypoints'], got['keypoints'], atol=1e-2)  # input pixels
    np.testing.assert_allclose(ref['scores'], got['scores'], rtol=1e-4)
