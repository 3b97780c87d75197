# Copyright (c) cpn_mm authors. All rights reserved.
"""ChannelsLastHook changes the memory layout, not the maths, through the real runner.

Training trajectories are compared one step at a time only: PyTorch's channels-last batch norm
on the CPU computes batch statistics with ~1e-5 relative rounding (contiguous: ~1e-7), and ReLU
masks turn such rounding into gradient differences of ~1%, so two runs drift apart as any two
float32 runs with different kernels do."""
import mmengine
import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from ..helpers import sample_cfg


def _first_step(work_dir, hooks):
    """One training iteration (one batch of the 12 sample persons) from the seeded init."""
    runner = Runner.from_cfg(
        sample_cfg(str(work_dir), 1, custom_hooks=hooks, randomness=dict(seed=0), val_cfg=None,
                   val_dataloader=None, val_evaluator=None))
    runner.train()
    hub = runner.message_hub
    losses = {k: hub.get_scalar(f'train/{k}').current() for k in ('loss_global', 'loss_refine')}
    return runner.model, losses


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


def test_channels_last_hook_test_predictions(sample_checkpoint, tmp_path):
    """runner.test() on the shipped detections from the same checkpoint: same keypoints."""
    _, checkpoint = sample_checkpoint
    preds = {}
    for name, hooks in (('contiguous', []), ('channels_last', [dict(type='ChannelsLastHook')])):
        dump = str(tmp_path / f'{name}.pkl')
        cfg = sample_cfg(str(tmp_path / name), 1, custom_hooks=hooks, load_from=checkpoint)
        cfg.test_evaluator = [cfg.test_evaluator, dict(type='DumpResults', out_file_path=dump)]
        Runner.from_cfg(cfg).test()
        preds[name] = mmengine.load(dump)
    a, b = preds['contiguous'], preds['channels_last']
    assert len(a) == len(b) > 0
    kpts_a = np.concatenate([s['pred_instances']['keypoints'] for s in a])
    kpts_b = np.concatenate([s['pred_instances']['keypoints'] for s in b])
    np.testing.assert_allclose(kpts_b, kpts_a, atol=1e-2)  # input pixels
    scores_a = np.concatenate([s['pred_instances']['keypoint_scores'] for s in a])
    scores_b = np.concatenate([s['pred_instances']['keypoint_scores'] for s in b])
    np.testing.assert_allclose(scores_b, scores_a, rtol=1e-4)
