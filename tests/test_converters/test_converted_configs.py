# Copyright (c) cpn_mm authors. All rights reserved.
"""configs/tf-cpn/ and configs/pytorch-cpn/: one per released model, with the options and the
input normalisation of the source; the converters' output fits them key for key."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpose.registry import MODELS

from cpn_mm.converters import pytorch_cpn_model_cfg, tf_cpn_model_cfg
from ..helpers import REPO

CONFIGS = {
    'tf-cpn/tf-cpn_r50_coco_256x192.py': ('tf-cpn', 50, (192, 256)),
    'tf-cpn/tf-cpn_r50_coco_384x288.py': ('tf-cpn', 50, (288, 384)),
    'tf-cpn/tf-cpn_r101_coco_384x288.py': ('tf-cpn', 101, (288, 384)),
    'pytorch-cpn/pytorch-cpn_r50_coco_256x192.py': ('pytorch-cpn', 50, (192, 256)),
    'pytorch-cpn/pytorch-cpn_r50_coco_384x288.py': ('pytorch-cpn', 50, (288, 384)),
    'pytorch-cpn/pytorch-cpn_r101_coco_384x288.py': ('pytorch-cpn', 101, (288, 384)),
}


def _shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_converted_config(name):
    source, depth, input_size = CONFIGS[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model_cfg = cfg.model
    assert model_cfg.backbone.depth == depth and model_cfg.backbone.init_cfg is None
    assert tuple(model_cfg.head.decoder.input_size) == input_size
    assert tuple(model_cfg.neck.heatmap_size) == (input_size[0] // 4, input_size[1] // 4)
    pre = model_cfg.data_preprocessor
    assert list(pre.std) == [255.] * 3
    if source == 'tf-cpn':
        assert list(pre.mean) == [102.9801, 115.9465, 122.7717] and not pre.bgr_to_rgb
        assert model_cfg.neck.resize_mode == model_cfg.head.resize_mode == 'asymmetric'
        eps = 1.001e-5  # TF1's fused batch norm, with which the released models ran
        reference = tf_cpn_model_cfg(depth)
    else:
        assert list(pre.mean) == [122.7717, 115.9465, 102.9801] and pre.bgr_to_rgb
        assert model_cfg.neck.resize_mode == model_cfg.head.resize_mode == 'align_corners'
        eps = 1e-5
        reference = pytorch_cpn_model_cfg(depth)
    model = MODELS.build(model_cfg)
    assert {m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {eps}
    # the converters check against these layouts: the configs must be the same
    assert _shapes(model) == _shapes(MODELS.build(reference))
    # test-time crop: one box padding factor (tf-cpn/pytorch-cpn: x1.2 wide, x1.3 high)
    val = cfg.val_dataloader.dataset.pipeline
    assert val[1] == dict(type='GetBBoxCenterScale', padding=1.3)
    assert tuple(val[2]['input_size']) == input_size
    Compose(val)
    Compose(cfg.train_dataloader.dataset.pipeline)
    assert cfg.test_dataloader.dataset.pipeline == val


@pytest.mark.parametrize('source', ['tf-cpn', 'pytorch-cpn'])
def test_data_preprocessor_gives_the_source_input(source):
    """The golden input is the source's normalised crop: its pixels, as MMPose hands them over
    (BGR uint8), go through the config's data preprocessor to the same tensor."""
    from ..helpers.golden import PT_DIR, TF_DIR
    folder = TF_DIR if source == 'tf-cpn' else PT_DIR
    inputs = np.load(osp.join(folder, 'input.npy'))[:1].astype(np.float64)
    name = f'{source}/{source}_r50_coco_256x192.py'
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    if source == 'tf-cpn':  # BGR, (pixel - mean) / 255
        bgr = inputs * 255 + np.array([102.9801, 115.9465, 122.7717])[:, None, None]
    else:  # RGB, pixel / 255 - mean / 255
        rgb = (inputs + np.array([122.7717, 115.9465, 102.9801])[:, None, None] / 255) * 255
        bgr = rgb[:, ::-1]
    pixels = np.round(bgr)
    assert np.abs(bgr - pixels).max() < 1e-3  # whole pixel values: uint8 crops
    from mmpose.structures import PoseDataSample
    pre = MODELS.build(cfg.model.data_preprocessor)
    batch = pre(dict(inputs=[torch.from_numpy(pixels[0].astype(np.uint8))],
                     data_samples=[PoseDataSample()]))
    np.testing.assert_allclose(batch['inputs'].numpy(), inputs, atol=2e-6)


def test_remaining_crop_difference_on_the_fixture_person():
    """docs/converted_models.md: MMPose's crop with padding 1.3 differs from tf-cpn's crop of
    the fixture's person (a box 1.59x taller than wide) by a median of 1 grey level inside the
    image; the rows outside the image differ by the fill (pixel means vs black)."""
    from ..helpers.golden import TF_DIR, load_fixture
    _, inputs, _, meta = load_fixture(TF_DIR)
    crop = meta['input']['crop']
    tf_crop = (inputs[0].astype(np.float64) * 255 + np.array(
        [102.9801, 115.9465, 122.7717])[:, None, None]).transpose(1, 2, 0)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tf-cpn', 'tf-cpn_r50_coco_256x192.py'))
    x, y, w, h = crop['bbox_xywh']
    data = Compose(cfg.val_dataloader.dataset.pipeline[:3])(
        dict(img_path=osp.join(REPO, 'data', 'coco_sample', crop['image']),
             bbox=np.array([[x, y, x + w, y + h]], np.float32), bbox_score=np.ones(1, np.float32)))
    diff = np.abs(data['img'].astype(np.float64) - tf_crop)
    # tf-cpn's crop spans image rows -8..443 of 425: about 5 rows above and 10 below are fill
    inside = diff[6:-11]
    assert np.median(inside) <= 1 and inside.mean() < 3
    assert diff[:4].mean() > 50 and diff[-8:].mean() > 50


def test_model_index_lists_the_converted_configs():
    """mim finds the converted configs through model-index.yml (configs/cpn_coco.yml)."""
    import glob

    import yaml
    with open(osp.join(REPO, 'configs', 'cpn_coco.yml')) as f:
        models = {m['Config']: m for m in yaml.safe_load(f)['Models']}
    found = {osp.relpath(p, osp.join(REPO, 'configs'))
             for src in ('tf-cpn', 'pytorch-cpn')
             for p in glob.glob(osp.join(REPO, 'configs', src, '*.py'))}
    assert found == set(CONFIGS)
    for name, (source, _, _) in CONFIGS.items():
        entry = models[f'configs/{name}']
        assert entry['Name'] == osp.splitext(osp.basename(name))[0]
        assert source in entry['Converted From']['Code']
        assert entry['Converted From']['Weights'].startswith('https://drive.google.com/')
