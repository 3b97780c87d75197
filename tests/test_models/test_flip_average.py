# Copyright (c) cpn_mm authors. All rights reserved.
"""The flip test's average (``cpn_mm.models.utils.flip_average``), shared by the head and the
inference backends, is taken in float32 under bfloat16, as ``CPNRefineHead.predict``'s
docstring promises."""
import torch
from mmpose.models.utils.tta import flip_heatmaps

from cpn_mm.models import CPNRefineHead
from cpn_mm.models.utils import flip_average

FLIP_INDICES = [0, 2, 1, 4, 3]


def test_flip_average_reads_float32():
    """bfloat16 heatmaps are averaged in float32: the result is float32 and equals the
    float32 average of the same values, which a bfloat16 average (8-bit mantissa) misses."""
    torch.manual_seed(0)
    a = torch.rand(2, 5, 8, 6).to(torch.bfloat16)
    b = torch.rand(2, 5, 8, 6).to(torch.bfloat16) + 1
    got = flip_average(a, b, FLIP_INDICES, {})
    back = flip_heatmaps(b.float(), flip_mode='heatmap', flip_indices=FLIP_INDICES,
                         shift_heatmap=False)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, (a.float() + back) * 0.5, rtol=0, atol=0)
    in_bf16 = (a + flip_heatmaps(b, flip_mode='heatmap', flip_indices=FLIP_INDICES,
                                 shift_heatmap=False)) * 0.5
    assert not torch.equal(got, in_bf16.float())  # the float32 cast is what makes it exact


def test_head_flip_test_averages_in_float32_under_bfloat16():
    """``CPNRefineHead.predict`` with flip test under bfloat16 autocast: the heatmaps it
    returns (``output_heatmaps``) and decodes are the float32 average of its bfloat16 maps."""
    from mmpose.structures import PoseDataSample
    torch.manual_seed(0)
    k, h, w = len(FLIP_INDICES), 16, 12
    head = CPNRefineHead(in_channels=8, mid_channels=4, num_levels=2, num_keypoints=k,
                         loss_refine=dict(type='OHKMMaskedMSELoss', topk=2),
                         decoder=dict(type='MultiSigmaHeatmap', input_size=(4 * w, 4 * h),
                                      heatmap_size=(w, h), kernel_sizes=[7, 7])).eval()
    feats = [([torch.randn(2, 8, h, w), torch.randn(2, 8, h // 2, w // 2)], []) for _ in (0, 1)]
    samples = [PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES)) for _ in range(2)]
    cfg = dict(flip_test=True, output_heatmaps=True)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        _, fields = head.predict(feats, samples, cfg)
        maps, maps_flip = head.forward(feats[0]), head.forward(feats[1])
    assert maps.dtype == torch.bfloat16  # the forward did run in bfloat16
    got = torch.stack([f.heatmaps for f in fields])
    assert got.dtype == torch.float32
    back = flip_heatmaps(maps_flip.float(), flip_mode='heatmap', flip_indices=FLIP_INDICES,
                         shift_heatmap=False)
    torch.testing.assert_close(got, (maps.float() + back) * 0.5, rtol=0, atol=0)
