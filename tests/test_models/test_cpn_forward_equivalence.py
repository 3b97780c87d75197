# Copyright (c) cpn_mm authors. All rights reserved.
"""The optimised forwards of CPNGlobalNet and CPNRefineHead (1x1 convs moved before the bilinear
resizes, no concatenation) against the straightforward computation of the same modules
(cpn_mm.testing, also the benchmark's reference)."""
import copy

import pytest
import torch
from mmpose.registry import MODELS

from cpn_mm.testing import straightforward_head, straightforward_neck
from ..helpers import forward_backward
from ..helpers.gradients import (float64_reference, gradient_deviation, record_relu_masks,
                                 replay_relu_masks)


def _build(num_levels=4, channels=32, K=5):
    torch.manual_seed(0)  # the same random initialisation at every call
    in_channels = tuple(channels * 2**i for i in range(num_levels))
    neck = MODELS.build(
        dict(type='CPNGlobalNet', in_channels=in_channels, out_channels=channels,
             num_keypoints=K))
    head = MODELS.build(
        dict(type='CPNRefineHead', in_channels=channels, mid_channels=channels // 2,
             num_levels=num_levels, num_keypoints=K,
             loss_refine=dict(type='OHKMMaskedMSELoss', topk=2)))
    neck.init_weights()
    head.init_weights()
    return neck, head, in_channels


def _inputs(in_channels, size, dtype, memory_format=torch.contiguous_format):
    """Backbone levels drawn in float32 whatever ``dtype`` (the same values in every dtype)."""
    g = torch.Generator().manual_seed(0)
    h, w = size
    return [
        torch.randn(2, c, h // 2**i, w // 2**i, generator=g).to(dtype).contiguous(
            memory_format=memory_format).requires_grad_() for i, c in enumerate(in_channels)
    ]


@pytest.mark.parametrize('size', [(32, 24), (30, 22)])  # exact halvings and odd level sizes
@pytest.mark.parametrize('train', [True, False])
def test_optimised_forward_equals_straightforward_float64(size, train):
    neck, head, in_channels = _build()
    neck.double().train(train)
    head.double().train(train)
    inputs = _inputs(in_channels, size, torch.float64)
    fast = forward_backward(neck, head, inputs, lambda n, x: n(x), lambda h, f: h(f))
    ref = forward_backward(neck, head, inputs, straightforward_neck, straightforward_head)
    for a, b in zip(fast[0] + fast[1], ref[0] + ref[1]):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def _grads(neck, head, inputs, fn_neck=lambda n, x: n(x), fn_head=lambda h, f: h(f)):
    outputs, grads = forward_backward(neck, head, inputs, fn_neck, fn_head)
    return outputs, dict(enumerate(grads))


@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
def test_float32_gradients_match_float64(memory_format):
    """The CPN neck + head (3 levels, 64 channels, K=17, batch 2, training) in float32, in each
    layout (channels_last: as ChannelsLastHook stores the model), against float64 with the
    float32 run's ReLU masks (tests/helpers/gradients.py: a pre-activation within float32
    rounding of zero may take the other branch in float64, which is not a rounding error)."""
    neck, head, in_channels = _build(num_levels=3, channels=64, K=17)
    ref_neck, ref_head = float64_reference(neck).train(), float64_reference(head).train()
    neck.train().to(memory_format=memory_format)
    head.train().to(memory_format=memory_format)
    masks = record_relu_masks(neck, head)
    out, grads = _grads(neck, head, _inputs(in_channels, (64, 48), torch.float32, memory_format))
    replay_relu_masks(masks, ref_neck, ref_head)
    ref_out, ref = _grads(ref_neck, ref_head, _inputs(in_channels, (64, 48), torch.float64))
    for a, b in zip(out, ref_out):
        torch.testing.assert_close(a.double(), b, rtol=0, atol=1e-5 * b.abs().max().item())
    dev, which = gradient_deviation(grads, ref)
    assert dev < 1e-4, f'gradient {which}: {dev:.1e}'


def test_optimised_forward_equals_straightforward_float32_channels_last():
    """Both forwards in float32 channels_last; the optimised one replays the straightforward
    one's ReLU masks (the two round differently, see tests/helpers/gradients.py)."""
    neck, head, in_channels = _build(num_levels=3, channels=64, K=17)
    neck.train().to(memory_format=torch.channels_last)
    head.train().to(memory_format=torch.channels_last)
    ref_neck, ref_head = copy.deepcopy(neck), copy.deepcopy(head)
    masks = record_relu_masks(ref_neck, ref_head)
    inputs = _inputs(in_channels, (64, 48), torch.float32, torch.channels_last)
    ref_out, ref = _grads(ref_neck, ref_head, inputs, straightforward_neck, straightforward_head)
    replay_relu_masks(masks, neck, head)
    out, grads = _grads(neck, head, inputs)
    for a, b in zip(out, ref_out):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())
    dev, which = gradient_deviation(grads, ref)
    assert dev < 1e-4, f'gradient {which}: {dev:.1e}'
