# Copyright (c) cpn_mm authors. All rights reserved.

import pytest
import torch
from mmpose.registry import MODELS

from ..helpers import cpn_cfg, n_params


def test_parameter_counts_r50():
    model = MODELS.build(cpn_cfg(50))
    assert n_params(model.neck) == 1_603_464
    assert n_params(model.head) == 1_898_274
    assert n_params(model) == 27_009_770


def test_parameter_count_r101():
    assert n_params(MODELS.build(cpn_cfg(101))) == 46_001_898


def test_reference_layer_layout():
    """BN and bias placement of the reference: merge convs have a bias and no BN."""
    model = MODELS.build(cpn_cfg(50))
    neck = model.neck
    assert len(neck.merge_convs) == 3
    assert all(c.bias is not None for c in neck.merge_convs)
    for lat in neck.lateral_convs:
        assert lat.conv.bias is None and lat.with_norm and lat.with_activation
    for pred in neck.predict_layers:
        assert pred[1].with_norm and not pred[1].with_activation
    head = model.head
    assert [len(b) for b in head.level_blocks] == [0, 1, 2, 3]
    assert head.final_block.downsample is not None
    assert head.final_layer.with_norm and not head.final_layer.with_activation


def test_forward_shapes_and_resnet18_levels():
    model = MODELS.build(cpn_cfg(50)).eval()
    x = torch.rand(2, 3, 256, 192)
    out = model(x, None, mode='tensor')
    assert out.shape == (2, 17, 64, 48)
    feats, hms = model.neck(model.backbone(x))
    assert [tuple(f.shape[-2:]) for f in feats] == [(64, 48), (32, 24), (16, 12), (8, 6)]
    assert all(h.shape == (2, 17, 64, 48) for h in hms)
    # ResNet-18, three levels only
    cfg = cpn_cfg(18, K=5, input_size=(96, 128))
    cfg['backbone'].update(out_indices=(0, 1, 2))
    cfg['neck'].update(in_channels=(64, 128, 256), heatmap_size=None)
    cfg['head'].update(num_levels=3, loss_refine=dict(type='OHKMMaskedMSELoss', topk=4))
    cfg['head']['decoder'].update(kernel_sizes=(11, 9, 7))
    small = MODELS.build(cfg).eval()
    assert small(torch.rand(1, 3, 128, 96), None, mode='tensor').shape == (1, 5, 32, 24)


BAD_CONFIGS = [
    # (part, key, value, message, fails at: 'build' or 'forward')
    ('decoder', 'kernel_sizes', (15, 11, 9), 'kernel_sizes', 'build'),
    ('head', 'loss_refine', dict(type='OHKMMaskedMSELoss', topk=20), 'topk', 'build'),
    ('neck', 'heatmap_size', (64, 48), 'heatmap_size', 'forward'),
    ('neck', 'in_channels', (256, ), 'in_channels', 'build'),
    ('neck', 'num_keypoints', 14, 'num_keypoints', 'forward'),
    ('neck', 'resize_mode', 'tf', 'resize_mode', 'build'),
]


@pytest.mark.parametrize('part, key, value, message, when', BAD_CONFIGS)
def test_bad_configs(part, key, value, message, when):
    cfg = cpn_cfg()
    target = cfg['head']['decoder'] if part == 'decoder' else cfg[part]
    target[key] = value
    if when == 'build':
        with pytest.raises(ValueError, match=message):
            MODELS.build(cfg)
        return
    model = MODELS.build(cfg)
    with pytest.raises(ValueError, match=message):
        model(torch.rand(1, 3, 256, 192), None, mode='tensor')
