# Copyright (c) cpn_mm authors. All rights reserved.
"""A model built from every shipped config survives torch.save/torch.load, pickle and deepcopy
with identical outputs (the sample config's: keypoints through MMPose's inference), and its
classes are the registered ones (nothing is generated or swapped at run time)."""
import copy
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmpose.apis import inference_topdown

from cpn_mm.apis import init_model
from cpn_mm.models import CPNGlobalNet, CPNRefineHead
from ..helpers import REPO, SAMPLE, SAMPLE_CONFIG

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
IMAGE = osp.join(SAMPLE, '000000000785.jpg')
BOX = np.array([[281., 45., 500., 392.]], dtype=np.float32)  # its person, xyxy


def _predict(model, full: bool):
    """``full``: keypoints and scores of a person of a sample image (MMPose's
    ``inference_topdown``: the config's pipeline, flip test, decoding); otherwise the heatmaps
    of one random crop (the same network function, a fraction of the time for the ResNet-101
    and 384x288 configs)."""
    if full:
        (sample, ) = inference_topdown(model, IMAGE, BOX)
        return (np.asarray(sample.pred_instances.keypoints),
                np.asarray(sample.pred_instances.keypoint_scores))
    w, h = model.head.decoder.input_size
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return (model.head.forward(model.extract_feat(x)).numpy(), )


def test_every_shipped_config_is_covered():
    names = {osp.relpath(c, REPO) for c in CONFIGS}
    assert 'configs/cpn_r18_coco-sample_192x144.py' in names
    assert 'configs/tf-cpn/tf-cpn_r50_coco_256x192.py' in names
    assert len(names) >= 11


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: osp.relpath(c, REPO))
def test_torch_save_pickle_deepcopy_round_trips(config, tmp_path):
    """torch.save + torch.load give the same predictions; pickle and deepcopy give the same
    classes and state dict (so the same function)."""
    torch.manual_seed(0)
    model = init_model(config)  # random weights, nothing downloaded
    assert type(model.neck) is CPNGlobalNet and type(model.head) is CPNRefineHead
    path = tmp_path / 'model.pt'
    torch.save(model, path)
    loaded = torch.load(path, weights_only=False)
    assert type(loaded) is type(model) and type(loaded.head) is CPNRefineHead
    full = config == SAMPLE_CONFIG
    for got, expected in zip(_predict(loaded, full), _predict(model, full)):
        np.testing.assert_array_equal(got, expected)
    state = model.state_dict()
    for how, other in dict(pickle=pickle.loads(pickle.dumps(model)),
                           deepcopy=copy.deepcopy(model)).items():
        assert [type(m) for m in other.modules()] == [type(m) for m in model.modules()], how
        other_state = other.state_dict()
        assert list(other_state) == list(state), how
        assert all(torch.equal(other_state[k], v) for k, v in state.items()), how
