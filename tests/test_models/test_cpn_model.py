# Copyright (c) cpn_mm authors. All rights reserved.
import copy

import pytest
import torch
from mmpose.registry import MODELS


def cpn_cfg(depth=50, K=17, input_size=(192, 256)):
    hm = (input_size[0] // 4, input_size[1] // 4)
    codec = dict(type='MultiSigmaHeatmap', input_size=input_size, heatmap_size=hm)
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=dict(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3)),
        neck=dict(
            type='CPNGlobalNet',
            in_channels=(64, 128, 256, 512) if depth < 50 else (256, 512, 1024, 2048),
            num_keypoints=K,
            heatmap_size=hm),
        head=dict(type='CPNRefineHead', num_keypoints=K, decoder=codec),
        test_cfg=dict(flip_test=True))


def n_params(m):
    return sum(p.numel() for p in m.parameters())


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


def test_bad_configs():
    cfg = cpn_cfg()
    bad = copy.deepcopy(cfg)
    bad['head']['decoder']['kernel_sizes'] = (15, 11, 9)
    with pytest.raises(ValueError, match='kernel_sizes'):
        MODELS.build(bad)
    bad = copy.deepcopy(cfg)
    bad['head']['loss_refine'] = dict(type='OHKMMaskedMSELoss', topk=20)
    with pytest.raises(ValueError, match='topk'):
        MODELS.build(bad)
    bad = copy.deepcopy(cfg)
    bad['neck']['heatmap_size'] = (64, 48)
    model = MODELS.build(bad)
    with pytest.raises(ValueError, match='heatmap_size'):
        model(torch.rand(1, 3, 256, 192), None, mode='tensor')
    bad = copy.deepcopy(cfg)
    bad['neck']['in_channels'] = (256, )
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(bad)
    bad = copy.deepcopy(cfg)
    bad['neck']['num_keypoints'] = 14
    model = MODELS.build(bad)
    with pytest.raises(ValueError, match='num_keypoints'):
        model(torch.rand(1, 3, 256, 192), None, mode='tensor')
