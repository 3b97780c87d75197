# Copyright (c) cpn_mm authors. All rights reserved.
"""MMPose's high-level ``MMPoseInferencer`` with a cpn_mm config and checkpoint."""
import os.path as osp

import numpy as np
import pytest

from ..helpers import (REPO, SAMPLE, SAMPLE_IMAGES, forbid_network, person_rtmdet_checkpoint,
                       rtmdet_tiny_config)


def test_inferencer_with_config_path(sample_checkpoint):
    """MMPoseInferencer(pose2d=<config path>) (the config names ``dataset_type``, which the
    inferencer reads), the whole image as the box."""
    from mmpose.apis import MMPoseInferencer
    config, ckpt = sample_checkpoint
    inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=ckpt, det_model='whole_image',
                                  device='cpu')
    result = next(inferencer(osp.join(SAMPLE, SAMPLE_IMAGES[0])))
    assert len(result['predictions'][0]) == 1


def test_inferencer_with_mmdet_detector(sample_checkpoint, tmp_path, monkeypatch):
    """pose2d/pose2d_weights from cpn_mm, det_model/det_weights passed through to mmdet's
    DetInferencer (a real RTMDet-tiny config, random weights, no network)."""
    from mmdet.apis import DetInferencer
    from mmpose.apis import MMPoseInferencer

    import cpn_mm  # noqa: F401
    from cpn_mm.models import CPNRefineHead
    forbid_network(monkeypatch)
    config, ckpt = sample_checkpoint
    det_cfg = rtmdet_tiny_config(str(tmp_path))
    # random weights drawn from a fixed seed (the global RNG state depends on the tests before)
    import torch
    torch.manual_seed(0)
    inferencer = MMPoseInferencer(
        pose2d=config, pose2d_weights=ckpt, det_model=det_cfg,
        det_weights=None, det_cat_ids=[0], device='cpu')
    pose = inferencer.inferencer
    assert isinstance(pose.model.head, CPNRefineHead)
    assert isinstance(pose.detector, DetInferencer)
    assert pose.detector.model.backbone.__class__.__name__ == 'CSPNeXt'

    img = osp.join(SAMPLE, SAMPLE_IMAGES[0])
    # random weights call nothing a person above 0.3: no box -> the whole image, one person
    result = next(inferencer(img, bbox_thr=0.3))
    assert len(result['predictions'][0]) == 1

    # det_weights passed through: a hand-set detector that finds persons
    det_ckpt = person_rtmdet_checkpoint(det_cfg, str(tmp_path / 'rtmdet_person.pth'))
    inferencer = MMPoseInferencer(
        pose2d=config, pose2d_weights=ckpt, det_model=det_cfg,
        det_weights=det_ckpt, det_cat_ids=[0], device='cpu')
    from mmpose.evaluation.functional import nms
    det = inferencer.inferencer.detector(img, return_datasamples=True)['predictions'][0]
    det = det.pred_instances.cpu().numpy()
    keep = (det.labels == 0) & (det.scores > 0.3)
    boxes = np.concatenate([det.bboxes, det.scores[:, None]], axis=1)[keep]
    expected = boxes[nms(boxes, 0.3)]
    preds = next(inferencer(img, bbox_thr=0.3, nms_thr=0.3))['predictions'][0]
    assert len(preds) == len(expected) > 1
    np.testing.assert_allclose(sorted(p['bbox'][0] for p in preds),
                               sorted(expected[:, :4].tolist()), atol=1e-3)
    for p in preds:
        kpts = np.array(p['keypoints'])
        assert kpts.shape == (17, 2) and len(p['keypoint_scores']) == 17
        assert np.isfinite(kpts).all()


def test_inferencer_bfloat16_from_config(sample_checkpoint, tmp_path):
    """MMPoseInferencer with a config whose ``model.test_cfg.dtype='bfloat16'``: the pose model
    runs under bfloat16 autocast (its head still hands float32 heatmaps to decoding)."""
    import torch
    from mmpose.apis import MMPoseInferencer
    config, ckpt = sample_checkpoint
    bf16_config = tmp_path / 'cpn_bf16.py'
    bf16_config.write_text(f"_base_ = [{config!r}]\n"
                           "model = dict(test_cfg=dict(dtype='bfloat16'))\n")
    inferencer = MMPoseInferencer(pose2d=str(bf16_config), pose2d_weights=ckpt,
                                  det_model='whole_image', device='cpu')
    model = inferencer.inferencer.model
    assert model.test_dtype == torch.bfloat16
    seen = []
    model.backbone.conv1.register_forward_hook(lambda m, i, o: seen.append(o.dtype) and None)
    result = next(inferencer(osp.join(SAMPLE, SAMPLE_IMAGES[0])))
    assert seen and set(seen) == {torch.bfloat16}  # the backbone ran in bfloat16
    person = result['predictions'][0][0]
    assert np.isfinite(np.array(person['keypoints'])).all() and len(person['keypoints']) == 17


@pytest.mark.parametrize('config, layout', [('cpn_r18_coco-sample_192x144.py', 'coco'),
                                            ('cpn_r18_h36m-sample_192x144.py', 'h36m')])
def test_inferencer_without_weights_has_the_configs_layout(config, layout):
    """MMPoseInferencer(pose2d=<sample config>) without weights (random model, as MMPose
    warns) reads the keypoint layout from the config's training dataset, a CombinedDataset
    with metainfo, and predicts and draws with it."""
    from mmpose.apis import MMPoseInferencer
    inferencer = MMPoseInferencer(pose2d=osp.join(REPO, 'configs', config),
                                  det_model='whole_image', device='cpu')
    model = inferencer.inferencer.model
    assert model.dataset_meta['dataset_name'] == layout
    assert model.dataset_meta['num_keypoints'] == 17
    result = next(inferencer(osp.join(SAMPLE, SAMPLE_IMAGES[0]), return_vis=True))
    (person, ) = result['predictions'][0]
    assert np.array(person['keypoints']).shape == (17, 2)
    assert result['visualization'][0].shape[2] == 3
