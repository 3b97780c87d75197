# Copyright (c) cpn_mm authors. All rights reserved.
"""CPNGlobalNet runs its heatmap predictors only where their output is used: in training (the
GlobalNet loss), while autograd records, or when asked (the cascade pictures); inference skips
them with the same keypoints and fewer multiply-adds."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from torch import nn

from cpn_mm.apis import complexity, init_model
from ..helpers import SAMPLE, SAMPLE_CONFIG

IMAGE = f'{SAMPLE}/000000000785.jpg'


class NeckWithHeatmaps(nn.Module):
    """The neck asked for its heatmaps, as a module (for FLOP counting)."""

    def __init__(self, neck):
        super().__init__()
        self.neck = neck

    def forward(self, inputs):
        return self.neck(inputs, with_heatmaps=True)


def _model():
    torch.manual_seed(0)
    return init_model(SAMPLE_CONFIG)


def _batch(model):
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = []
    for box in ([281., 45., 500., 392.], [0., 0., 640., 425.]):
        info = dict(img_path=IMAGE, bbox=np.array([box], np.float32),
                    bbox_score=np.ones(1, np.float32), **model.dataset_meta)
        data.append(pipeline(info))
    return pseudo_collate(data)


def _count_predictor_calls(model):
    calls = []
    for layer in model.neck.predict_layers:
        layer.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_inference_skips_the_predictors_with_the_same_keypoints():
    model = _model()
    calls = _count_predictor_calls(model)
    batch = _batch(model)
    with torch.no_grad():  # inference: test loop, inference_topdown, export
        skipped = model.test_step(batch)
    assert calls == []
    # the former forward: the predictors run (autograd records), the outputs are dropped
    computed = model.test_step(batch)
    assert len(calls) == 2 * model.neck.num_levels  # flip test: two forwards
    for a, b in zip(skipped, computed):
        np.testing.assert_array_equal(a.pred_instances.keypoints, b.pred_instances.keypoints)
        np.testing.assert_array_equal(a.pred_instances.keypoint_scores,
                                      b.pred_instances.keypoint_scores)
    calls.clear()
    with torch.no_grad():
        refined = model(model.data_preprocessor(batch)['inputs'], None, mode='tensor')
    assert calls == [] and refined.shape == (2, 17, 48, 36)


def test_training_and_explicit_requests_compute_the_heatmaps():
    model = _model()
    x = torch.rand(2, 3, 192, 144)
    with torch.no_grad():
        feats = model.backbone(x)
        assert model.neck(feats)[1] == ()
        asked = model.neck(feats, with_heatmaps=True)[1]
        model.train()
        trained = model.neck(feats)[1]
    assert len(asked) == len(trained) == 4
    assert all(h.shape == (2, 17, 48, 36) for h in asked + trained)
    assert model.neck(feats, with_heatmaps=False)[1] == ()


def test_loss_without_heatmaps_names_the_argument():
    from mmpose.structures import PoseDataSample
    model = _model()
    with torch.no_grad():
        feats = model.neck(model.backbone(torch.rand(1, 3, 192, 144)))
    with pytest.raises(ValueError, match='with_heatmaps=True'):
        model.head.loss(feats, [PoseDataSample(metainfo=dict(flip_indices=list(range(17))))])


def test_inference_counts_fewer_macs():
    """FLOP counting runs the inference forward: the neck's count drops by exactly the
    predictors' multiply-adds; backbone and head are unchanged."""
    model = _model()
    inference = complexity(model, (192, 144))
    full = complexity(model, (192, 144), parts=dict(neck=NeckWithHeatmaps(model.neck)))
    assert inference['flops']['backbone'] == full['flops']['backbone']
    assert inference['flops']['head'] == full['flops']['head']
    saved = full['flops']['neck'] - inference['flops']['neck']
    # per level: 1x1 conv C->C and 3x3 conv C->K at its resolution, plus BN and the resize
    C, K = model.neck.out_channels, model.neck.num_keypoints
    convs = sum((C * C + 9 * C * K) * (48 >> i) * (36 >> i) for i in range(4))
    assert convs <= saved < 1.1 * convs
