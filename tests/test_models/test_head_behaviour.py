# Copyright (c) cpn_mm authors. All rights reserved.
"""CPNRefineHead's loss values and default flip handling, computed independently."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.structures import MultilevelPixelData, PoseDataSample

B, K, L, C, H, W = 3, 5, 2, 32, 16, 12
FLIP = [0, 2, 1, 4, 3]


def build_head():
    codec = dict(type='MultiSigmaHeatmap', input_size=(W * 4, H * 4), heatmap_size=(W, H),
                 kernel_sizes=(9, 7), refine_kernel_size=7)
    head = MODELS.build(dict(type='CPNRefineHead', in_channels=C, mid_channels=16, num_levels=L,
                             num_keypoints=K, decoder=codec,
                             loss_refine=dict(type='OHKMMaskedMSELoss', topk=3)))
    head.init_weights()
    return head.eval()


def features(seed):
    g = torch.Generator().manual_seed(seed)
    pyramid = [torch.randn(B, C, H >> i, W >> i, generator=g) for i in range(L)]
    heatmaps = [torch.rand(B, K, H, W, generator=g) * 255 for _ in range(L)]
    return pyramid, heatmaps


def samples(targets, weights):
    out = []
    for b in range(B):
        s = PoseDataSample(metainfo=dict(flip_indices=FLIP, input_size=(W * 4, H * 4),
                                         input_center=np.zeros(2), input_scale=np.ones(2)))
        s.gt_fields = MultilevelPixelData(heatmaps=[t[b] for t in targets])
        s.gt_instance_labels = InstanceData(keypoint_weights=weights[:, b:b + 1])
        out.append(s)
    return out


def test_loss_global_is_tf_cpns_mean_over_levels():
    torch.manual_seed(0)
    head = build_head()
    feats = features(1)
    targets = [torch.rand(B, K, H, W) * 255 for _ in range(L + 1)]
    weights = (torch.rand(L + 1, B, K) > 0.3).float()
    losses = head.loss(feats, samples(targets, weights))
    # tf-cpn: sum over levels of mean((out - target * [v == 2])^2) / L / 2, in float64
    out = [h.double() for h in feats[1]]
    masked = [t.double() * w[:, :, None, None].double() for t, w in zip(targets, weights)]
    expected = sum(((o - t)**2).mean() for o, t in zip(out, masked)) / L / 2
    assert losses['loss_global'].item() == pytest.approx(expected.item(), rel=1e-5)
    # refine: per-keypoint spatial MSE x [v >= 1], top-3 per sample, mean over the batch
    refined = head.forward(feats).double()
    per_kpt = ((refined - targets[-1].double()) ** 2).mean(dim=(2, 3)) * weights[-1].double()
    expected_refine = per_kpt.topk(3, dim=1).values.mean(dim=1).mean()
    assert losses['loss_refine'].item() == pytest.approx(expected_refine.item(), rel=1e-5)


@pytest.mark.parametrize('test_cfg', [
    dict(flip_test=True),  # shift_heatmap left out: tf-cpn's flip, no shift
    dict(flip_test=True, shift_heatmap=False)
])
def test_flip_test_default_averages_without_shift(test_cfg):
    head = build_head()
    feats, feats_flip = features(2), features(3)
    data = samples([torch.zeros(B, K, H, W)] * (L + 1), torch.ones(L + 1, B, K))
    with torch.no_grad():
        _, fields = head.predict([feats, feats_flip], data,
                                 test_cfg=dict(test_cfg, output_heatmaps=True))
        back = head.forward(feats_flip).flip(-1)[:, FLIP]  # flipped back, channels swapped
        expected = (head.forward(feats) + back) / 2
        shifted = (head.forward(feats) + flip_heatmaps(
            head.forward(feats_flip), flip_indices=FLIP, shift_heatmap=True)) / 2
    got = torch.stack([f.heatmaps for f in fields])
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, shifted)
