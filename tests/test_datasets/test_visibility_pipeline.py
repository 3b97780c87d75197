# Copyright (c) cpn_mm authors. All rights reserved.
"""Visibility flags (COCO v) through MMPose's real training pipeline, flip included."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmpose.registry import DATASETS, MODELS

from ..helpers import SAMPLE, cpn_cfg

CODEC = dict(type='MultiSigmaHeatmap', input_size=(192, 256), heatmap_size=(48, 64))


def build_dataset(flip_prob, codec=CODEC):
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=flip_prob),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs', pack_transformed=True)
    ]
    return DATASETS.build(
        dict(
            type='CPNCocoDataset',
            data_root=SAMPLE,
            ann_file='test_coco.json',
            data_prefix=dict(img=''),
            pipeline=pipeline))


def raw_visibility():
    with open(osp.join(SAMPLE, 'test_coco.json')) as f:
        anns = json.load(f)['annotations']
    return {a['id']: np.array(a['keypoints']).reshape(-1, 3)[:, 2] for a in anns}


@pytest.mark.parametrize('flip_prob', [0., 1.])
def test_global_and_refine_weights_follow_coco_v(flip_prob):
    ds = build_dataset(flip_prob)
    raw = raw_visibility()
    flip_indices = np.array(ds.metainfo['flip_indices'])
    saw_occluded = False
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        sample = ds[i]['data_samples']
        w = sample.gt_instance_labels.keypoint_weights.numpy()  # (5, 1, K)
        v = raw[info['id']]
        if flip_prob:
            v = v[flip_indices]
        kpts = sample.gt_instances.transformed_keypoints[0]
        inside = ((np.floor(kpts[:, 0] / 4) >= 0) & (np.floor(kpts[:, 0] / 4) < 48)
                  & (np.floor(kpts[:, 1] / 4) >= 0) & (np.floor(kpts[:, 1] / 4) < 64))
        for level in range(4):
            np.testing.assert_array_equal(w[level, 0], ((v == 2) & inside).astype(np.float32))
        np.testing.assert_array_equal(w[4, 0], ((v >= 1) & inside).astype(np.float32))
        saw_occluded |= bool(((v == 1) & inside).any())
        # a visible-only keypoint's global target is zero where its refine target is not
        hm = sample.gt_fields
        for k in np.flatnonzero((v == 1) & inside):
            assert not hm[0].heatmaps[k].any() and hm[4].heatmaps[k].max() > 254
    assert saw_occluded, 'the sample has occluded (v = 1) keypoints: they must be exercised'


def test_flip_swaps_visibility_with_keypoints():
    a = build_dataset(0.)[1]['data_samples'].gt_instance_labels.keypoint_weights.numpy()
    b = build_dataset(1.)[1]['data_samples'].gt_instance_labels.keypoint_weights.numpy()
    flip = build_dataset(0.).metainfo['flip_indices']
    np.testing.assert_array_equal(a[:, :, flip], b)
    assert not np.array_equal(a, b)


def test_model_loss_on_pipeline_batch():
    ds = build_dataset(0.5)
    model = MODELS.build(cpn_cfg(18))
    batch = pseudo_collate([ds[i] for i in range(4)])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_global', 'loss_refine', 'acc_pose'}
    assert all(torch.isfinite(v) for v in losses.values())
    (losses['loss_global'] + losses['loss_refine']).backward()


def test_keypoint_count_mismatch_between_dataset_and_head():
    ds = build_dataset(0.)
    model = MODELS.build(cpn_cfg(18, K=14))
    data = model.data_preprocessor(pseudo_collate([ds[0]]), training=True)
    with pytest.raises(ValueError, match='num_keypoints'):
        model(**data, mode='loss')
