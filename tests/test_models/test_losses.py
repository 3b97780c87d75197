# Copyright (c) cpn_mm authors. All rights reserved.
import pytest
import torch
from mmpose.registry import MODELS


def loop_ohkm(output, target, weights, topk):
    """tf-cpn's ohkm: a plain loop over samples and keypoints."""
    B, K = output.shape[:2]
    total = 0.
    for b in range(B):
        per_kpt = torch.stack([((output[b, k] - target[b, k])**2).mean() * weights[b, k]
                               for k in range(K)])
        vals = sorted(per_kpt.tolist(), reverse=True)[:topk]
        total += sum(vals) / topk
    return total / B


@pytest.mark.parametrize('seed', range(3))
def test_ohkm_matches_loop(seed):
    g = torch.Generator().manual_seed(seed)
    B, K, H, W = 6, 17, 16, 12
    out = torch.rand(B, K, H, W, generator=g, dtype=torch.float64) * 255
    tgt = torch.rand(B, K, H, W, generator=g, dtype=torch.float64) * 255
    w = (torch.rand(B, K, generator=g) > 0.3).double()
    loss = MODELS.build(dict(type='OHKMMaskedMSELoss', topk=8))
    got = loss(out, tgt, w).item()
    ref = loop_ohkm(out, tgt, w, 8)
    assert abs(got - ref) / ref <= 1e-6


def test_ohkm_masked_keypoints_rank_with_zero_and_ties():
    loss = MODELS.build(dict(type='OHKMMaskedMSELoss', topk=3))
    out = torch.zeros(1, 4, 2, 2)
    tgt = torch.zeros(1, 4, 2, 2)
    tgt[0, 0] = 2.  # loss 4, but masked out
    tgt[0, 1] = 1.  # loss 1
    tgt[0, 2] = 1.  # loss 1 (tie)
    w = torch.tensor([[0., 1., 1., 1.]])
    # top-3 of [0, 1, 1, 0] = 1 + 1 + 0
    assert loss(out, tgt, w).item() == pytest.approx(2 / 3)


def test_ohkm_all_masked_is_finite_zero_with_gradient():
    loss = MODELS.build(dict(type='OHKMMaskedMSELoss', topk=8))
    out = torch.rand(4, 17, 8, 6, requires_grad=True)
    val = loss(out, torch.rand(4, 17, 8, 6), torch.zeros(4, 17))
    assert torch.isfinite(val) and val.item() == 0
    val.backward()
    assert torch.isfinite(out.grad).all()


def test_ohkm_topk_larger_than_k():
    loss = MODELS.build(dict(type='OHKMMaskedMSELoss', topk=8))
    with pytest.raises(ValueError, match='topk'):
        loss(torch.rand(2, 5, 4, 4), torch.rand(2, 5, 4, 4), torch.ones(2, 5))
    with pytest.raises(ValueError, match='topk'):
        MODELS.build(dict(type='OHKMMaskedMSELoss', topk=0))


def test_masked_target_mse_zeroes_target_not_output():
    loss = MODELS.build(dict(type='MaskedTargetMSELoss', loss_weight=0.5))
    out = torch.full((1, 2, 2, 2), 3.)
    tgt = torch.full((1, 2, 2, 2), 1.)
    w = torch.tensor([[1., 0.]])
    # keypoint 0: (3 - 1)^2 = 4; keypoint 1: target zeroed -> (3 - 0)^2 = 9
    assert loss(out, tgt, w).item() == pytest.approx((4 + 9) / 2 * 0.5)


@pytest.mark.parametrize('name', ['OHKMMaskedMSELoss', 'MaskedTargetMSELoss'])
def test_gradients_are_autograd_of_the_formula_and_backward_twice(name):
    """The losses are plain tensor operations: their gradient is autograd's of the written-out
    formula, and the graph can be backpropagated more than once."""
    g = torch.Generator().manual_seed(0)
    out = (torch.rand(3, 17, 8, 6, generator=g, dtype=torch.float64) * 255).requires_grad_()
    tgt = torch.rand(3, 17, 8, 6, generator=g, dtype=torch.float64) * 255
    w = (torch.rand(3, 17, generator=g) > 0.3).double()
    loss = MODELS.build(dict(type=name))
    value = loss(out, tgt, w)
    value.backward(retain_graph=True)
    first = out.grad.clone()
    value.backward()
    torch.testing.assert_close(out.grad, 2 * first)
    x = out.detach().requires_grad_()
    if name == 'OHKMMaskedMSELoss':
        per_kpt = ((x - tgt)**2).mean(dim=(2, 3)) * w
        ref = per_kpt.topk(8, dim=1).values.mean(dim=1).mean()
    else:
        ref = ((x - tgt * w[:, :, None, None])**2).mean()
    ref.backward()
    torch.testing.assert_close(first, x.grad)
