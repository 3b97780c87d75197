# Copyright (c) cpn_mm authors. All rights reserved.
"""MixedPrecisionTopdownPoseEstimator (test_cfg.dtype) and CPN's losses under autocast."""
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from cpn_mm.models import CPNRefineHead, MaskedTargetMSELoss, OHKMMaskedMSELoss
from cpn_mm.utils.precision import autocast, parse_dtype
from ..helpers import SAMPLE, SAMPLE_CONFIG, sample_cfg


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


def test_bfloat16_predict_flips_and_decodes_float32():
    """test_cfg.dtype='bfloat16': backbone, neck and head run in bfloat16; the head casts its
    heatmaps to float32 before the flip average and decoding; the keypoints are close to
    float32's. The head is the registered class (nothing generated or swapped)."""
    from mmpose.apis import inference_topdown

    from cpn_mm.apis import init_model
    torch.manual_seed(0)
    model = init_model(SAMPLE_CONFIG, dtype='bfloat16')
    assert type(model.head) is CPNRefineHead
    dtypes = []
    model.neck.register_forward_hook(lambda m, i, out: dtypes.append(out[0][0].dtype))
    model.head.final_layer.register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    model.test_cfg['output_heatmaps'] = True
    img, box = f'{SAMPLE}/000000000785.jpg', np.array([[281, 45, 500, 392.]])
    (bf16, ) = inference_topdown(model, img, box)
    model.test_cfg['dtype'] = 'float32'
    (fp32, ) = inference_topdown(model, img, box)
    # two forwards (flip test) in bfloat16, then two in float32
    assert dtypes == [torch.bfloat16] * 4 + [torch.float32] * 4
    # the flip average (what output_heatmaps returns) and decoding read float32
    assert bf16.pred_fields.heatmaps.dtype == torch.float32
    ref = fp32.pred_fields.heatmaps
    # bfloat16 keeps 8 bits of mantissa: random weights, heatmaps within a few % of their range
    assert (bf16.pred_fields.heatmaps - ref).abs().max() < 0.05 * ref.abs().max()
    assert bf16.pred_instances.keypoints.dtype == np.float32


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
