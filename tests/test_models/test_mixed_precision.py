# Copyright (c) cpn_mm authors. All rights reserved.
"""MixedPrecisionTopdownPoseEstimator (test_cfg.dtype) and CPN's losses under autocast."""
import pytest
import torch
from mmpose.registry import MODELS

from cpn_mm.models import CPNRefineHead, MaskedTargetMSELoss, OHKMMaskedMSELoss
from cpn_mm.utils.precision import autocast, parse_dtype
from ..helpers import sample_cfg


def _model(tmp_path, **test_cfg):
    cfg = sample_cfg(str(tmp_path), 1)
    cfg.model.test_cfg.update(test_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def test_bad_dtype_fails_at_build(tmp_path):
    with pytest.raises(ValueError, match=r'`test_cfg.dtype` must be one of .*bfloat16'):
        _model(tmp_path, dtype='int8')
    with pytest.raises(ValueError, match='`dtype` must be one of'):
        parse_dtype('half')


def test_head_returns_float32_under_autocast(tmp_path):
    model = _model(tmp_path, dtype='bfloat16')
    assert isinstance(model.head, CPNRefineHead) and type(model.head).__name__ == 'CPNRefineHead'
    x = torch.randn(2, 3, 192, 144)
    with torch.no_grad(), autocast('cpu', 'bfloat16'):
        feats = model.extract_feat(x)
        out = model.head.forward(feats)
    assert feats[1][0].dtype == torch.bfloat16 and out.dtype == torch.float32
    with torch.no_grad():
        ref = model.head.forward(model.extract_feat(x))
    # bfloat16 keeps 8 bits of mantissa: random weights, heatmaps within a few % of their range
    assert (out - ref).abs().max() < 0.05 * ref.abs().max()
    # state dict and parameters are the plain head's
    assert set(model.head.state_dict()) == set(CPNRefineHead(
        in_channels=128, mid_channels=64, decoder=None).state_dict())


def test_float16_on_cpu_is_refused(tmp_path):
    model = _model(tmp_path, dtype='float16')
    from mmpose.structures import PoseDataSample
    with pytest.raises(ValueError, match="use dtype='bfloat16'"):
        model.predict(torch.zeros(1, 3, 192, 144), [PoseDataSample()])


@pytest.mark.parametrize('loss', [OHKMMaskedMSELoss(topk=3), MaskedTargetMSELoss()])
def test_losses_compute_in_float32(loss):
    """bfloat16 heatmaps (what autocast gives): the loss is the float32 loss of the same values,
    so the OHKM ranking compares float32 losses; the gradient reaches the bfloat16 input."""
    g = torch.Generator().manual_seed(0)
    out = (torch.rand(2, 5, 8, 6, generator=g) * 255).bfloat16().requires_grad_()
    tgt = torch.rand(2, 5, 8, 6, generator=g) * 255
    w = torch.ones(2, 5)
    with autocast('cpu', 'bfloat16'):
        value = loss(out, tgt, w)
    assert value.dtype == torch.float32
    ref = loss(out.detach().float(), tgt, w)
    assert value.item() == pytest.approx(ref.item(), rel=1e-6)
    value.backward()
    assert out.grad.dtype == torch.bfloat16 and torch.isfinite(out.grad.float()).all()
