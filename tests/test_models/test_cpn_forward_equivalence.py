# Copyright (c) cpn_mm authors. All rights reserved.
"""The optimised forwards of CPNGlobalNet and CPNRefineHead (1x1 convs moved before the bilinear
resizes, no concatenation) against the straightforward computation of the same modules
(cpn_mm.testing, also the benchmark's reference)."""
import pytest
import torch
from mmpose.registry import MODELS

from cpn_mm.testing import straightforward_head, straightforward_neck
from ..helpers import forward_backward


def _build(num_levels=4, channels=32, K=5):
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
    g = torch.Generator().manual_seed(0)
    h, w = size
    return [
        torch.randn(2, c, h // 2**i, w // 2**i, generator=g,
                    dtype=dtype).contiguous(memory_format=memory_format).requires_grad_()
        for i, c in enumerate(in_channels)
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


def test_optimised_forward_equals_straightforward_float32_channels_last():
    neck, head, in_channels = _build(num_levels=3, channels=64, K=17)
    neck.train()
    head.train()
    inputs = _inputs(in_channels, (64, 48), torch.float32, torch.channels_last)
    ref = forward_backward(neck, head, inputs, straightforward_neck, straightforward_head)
    neck.to(memory_format=torch.channels_last)
    head.to(memory_format=torch.channels_last)
    fast = forward_backward(neck, head, inputs, lambda n, x: n(x), lambda h, f: h(f))
    for a, b in zip(fast[0], ref[0]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())
    # some gradients are zero up to rounding (biases in front of BN): compare them on the scale
    # of all gradients
    scale = max(b.abs().max().item() for b in ref[1])
    for a, b in zip(fast[1], ref[1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * scale)
