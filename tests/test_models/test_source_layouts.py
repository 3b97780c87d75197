# Copyright (c) cpn_mm authors. All rights reserved.
"""The neck/head options that make cpn_mm compute the authors' networks (tf-cpn, pytorch-cpn):
bilinear conventions, the merge conv with BN after the resize, the predictor's BN after the
resize, projection shortcuts in the cascades; against straightforward forwards written from the
sources' descriptions, in training and eval mode, with gradients."""
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from cpn_mm.models.utils import RESIZE_MODES, resize_bilinear
from cpn_mm.runtime.export import torchscript_exporter
from cpn_mm.testing import straightforward_head, straightforward_neck, tf_legacy_resize
from ..helpers import cpn_cfg, forward_backward, n_params


@pytest.mark.parametrize('size', [(16, 12), (64, 48), (5, 7), (3, 2), (8, 6)])
def test_asymmetric_resize_is_tf_legacy(size):
    x = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    torch.testing.assert_close(resize_bilinear(x, size, 'asymmetric'), tf_legacy_resize(x, size),
                               rtol=0, atol=1e-12)
    # known values: 2 -> 4 samples at 0, 0.5, 1, 1 (edge clamped)
    row = torch.tensor([[[[0., 2.]]]])
    assert resize_bilinear(row, (1, 4), 'asymmetric').flatten().tolist() == [0, 1, 2, 2]
    assert resize_bilinear(row, (1, 4), 'align_corners').flatten().tolist() == pytest.approx(
        [0, 2 / 3, 4 / 3, 2])
    assert resize_bilinear(row, (1, 4), 'half_pixel').flatten().tolist() == [0, 0.5, 1.5, 2]


def test_resize_modes_and_bad_mode():
    x = torch.randn(1, 2, 4, 3)
    assert resize_bilinear(x, (4, 3), 'asymmetric') is x
    for mode in RESIZE_MODES:
        assert resize_bilinear(x, (8, 6), mode).shape == (1, 2, 8, 6)
    with pytest.raises(ValueError, match="`resize_mode` must be one of"):
        MODELS.build(dict(type='CPNGlobalNet', resize_mode='tf'))
    with pytest.raises(ValueError, match="`resize_mode` must be one of"):
        MODELS.build(dict(type='CPNRefineHead', resize_mode='bilinear'))


LAYOUTS = {
    'default': dict(neck=dict(), head=dict()),
    'tf-cpn': dict(neck=dict(resize_mode='asymmetric'), head=dict(resize_mode='asymmetric')),
    'pytorch-cpn': dict(
        neck=dict(resize_mode='align_corners', merge_norm_cfg=dict(type='BN'),
                  heatmap_norm_after_resize=True),
        head=dict(resize_mode='align_corners', cascade_projection_shortcut=True)),
}


def _build(layout, channels=32, K=5, num_levels=4):
    in_channels = tuple(channels * 2**i for i in range(num_levels))
    neck = MODELS.build(dict(type='CPNGlobalNet', in_channels=in_channels, out_channels=channels,
                             num_keypoints=K, **LAYOUTS[layout]['neck']))
    head = MODELS.build(dict(type='CPNRefineHead', in_channels=channels,
                             mid_channels=channels // 2, num_levels=num_levels, num_keypoints=K,
                             loss_refine=dict(type='OHKMMaskedMSELoss', topk=2),
                             **LAYOUTS[layout]['head']))
    neck.init_weights()
    head.init_weights()
    # BN with non-trivial statistics, so that eval mode tests the running statistics
    g = torch.Generator().manual_seed(2)
    for m in [*neck.modules(), *head.modules()]:
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
            m.weight.data.uniform_(0.5, 1.0, generator=g)
            m.bias.data.uniform_(-0.1, 0.1, generator=g)
        if isinstance(m, torch.nn.Conv2d) and m.bias is not None:
            m.bias.data.uniform_(-0.1, 0.1, generator=g)
    return neck, head, in_channels


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
@pytest.mark.parametrize('train', [True, False])
def test_layout_forward_equals_straightforward_float64(layout, train):
    neck, head, in_channels = _build(layout)
    neck.double().train(train)
    head.double().train(train)
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(2, c, 32 // 2**i, 24 // 2**i, generator=g,
                          dtype=torch.float64).requires_grad_()
              for i, c in enumerate(in_channels)]
    # running statistics are updated in training: run both from the same state
    state = {k: v.clone() for k, v in [*neck.state_dict().items(),
                                       *(('h.' + k, v) for k, v in head.state_dict().items())]}
    fast = forward_backward(neck, head, inputs, lambda n, x: n(x), lambda h, f: h(f))
    neck.load_state_dict({k: v for k, v in state.items() if not k.startswith('h.')})
    head.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith('h.')})
    ref = forward_backward(neck, head, inputs, straightforward_neck, straightforward_head)
    for a, b in zip(fast[0] + fast[1], ref[0] + ref[1]):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_layouts_parameter_counts_and_structure():
    cfg = cpn_cfg(50)
    cfg['neck'].update(LAYOUTS['pytorch-cpn']['neck'])
    cfg['head'].update(LAYOUTS['pytorch-cpn']['head'])
    model = MODELS.build(cfg)
    # pytorch-cpn's CPN50 (K = 17): 27,406,826 learnable parameters
    assert n_params(model) == 27_406_826
    assert all(m.conv.bias is None and m.with_norm and not m.with_activation
               for m in model.neck.merge_convs)
    assert all(b.downsample is not None for blocks in model.head.level_blocks for b in blocks)
    cfg = cpn_cfg(50)
    cfg['neck'].update(LAYOUTS['tf-cpn']['neck'])
    cfg['head'].update(LAYOUTS['tf-cpn']['head'])
    assert n_params(MODELS.build(cfg)) == 27_009_770  # as the default layout


def test_asymmetric_resize_exports_to_onnx(tmp_path):
    import onnx  # requirements/tests.txt
    import onnxruntime as ort

    class Up(torch.nn.Module):

        def forward(self, x):
            return resize_bilinear(x, (16, 12), 'asymmetric')

    x = torch.randn(2, 3, 4, 3)
    path = str(tmp_path / 'up.onnx')
    torch.onnx.export(Up(), (x, ), path, input_names=['x'], output_names=['y'],
                      dynamic_axes={'x': {0: 'b'}}, opset_version=17, **torchscript_exporter())
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    x = torch.randn(3, 3, 4, 3)
    np.testing.assert_allclose(sess.run(None, {'x': x.numpy()})[0],
                               tf_legacy_resize(x, (16, 12)).numpy(), atol=1e-6)
