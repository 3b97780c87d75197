# Copyright (c) cpn_mm authors. All rights reserved.
"""ChannelsLastHook changes the memory layout, not the maths: the same seeded run on the sample
with and without it ends with the same weights and the same COCO AP."""
import pytest
import torch
from mmengine.runner import Runner

from ..conftest import sample_cfg


def _train(work_dir, hooks):
    cfg = sample_cfg(str(work_dir), 2, custom_hooks=hooks, randomness=dict(seed=0))
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    return runner.model, metrics


def test_channels_last_hook_same_training_and_evaluation(tmp_path):
    ref_model, ref_metrics = _train(tmp_path / 'contiguous', [])
    model, metrics = _train(tmp_path / 'channels_last', [dict(type='ChannelsLastHook')])

    convs = [p for p in model.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    assert not all(p.is_contiguous() for p in convs)  # the layout really changed
    assert all(p.is_contiguous() for p in ref_model.parameters())

    ref_state, state = ref_model.state_dict(), model.state_dict()
    assert set(ref_state) == set(state)
    for name, value in state.items():
        torch.testing.assert_close(value, ref_state[name], rtol=1e-4, atol=1e-5, msg=name)
    assert metrics['coco/AP'] == pytest.approx(ref_metrics['coco/AP'], abs=1e-6)
