# Copyright (c) cpn_mm authors. All rights reserved.
"""Bad input fails fast, naming the culprit."""
import json
import os.path as osp

import pytest
from mmengine.runner import Runner

from ..helpers import SAMPLE, sample_cfg


def train(cfg):
    Runner.from_cfg(cfg).train()


def test_missing_annotation_file(tmp_path):
    cfg = sample_cfg(str(tmp_path), 1)
    cfg.train_dataloader.dataset.datasets[0].dataset.ann_file = 'no_such_annotations.json'
    with pytest.raises(AssertionError, match='no_such_annotations.json'):
        train(cfg)


def test_missing_image(tmp_path):
    with open(osp.join(SAMPLE, 'test_coco.json')) as f:
        ann = json.load(f)
    for img in ann['images']:
        img['file_name'] = 'missing_' + img['file_name']
    (tmp_path / 'ann.json').write_text(json.dumps(ann))
    cfg = sample_cfg(str(tmp_path), 1)
    cfg.train_dataloader.dataset.datasets[0].dataset.ann_file = str(tmp_path / 'ann.json')
    with pytest.raises(FileNotFoundError, match=r'missing_000000\d+\.jpg'):
        train(cfg)


def test_num_keypoints_disagrees_with_dataset(tmp_path):
    cfg = sample_cfg(str(tmp_path), 1)
    cfg.model.neck.num_keypoints = 16
    cfg.model.head.num_keypoints = 16
    with pytest.raises(ValueError, match='num_keypoints.*16|16.*num_keypoints'):
        train(cfg)


def test_unknown_type_name(tmp_path):
    cfg = sample_cfg(str(tmp_path), 1)
    cfg.model.head.type = 'CPNRefineHeadX'
    with pytest.raises(KeyError, match='CPNRefineHeadX'):
        train(cfg)
