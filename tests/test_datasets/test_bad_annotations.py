# Copyright (c) cpn_mm authors. All rights reserved.
"""Non-finite numbers in annotation or detection files fail at dataset load, naming the culprit."""
import json
import math
import os.path as osp

import mmengine
import numpy as np
import pytest
from mmpose.registry import DATASETS, KEYPOINT_CODECS

from ..helpers import SAMPLE

ANN = osp.join(SAMPLE, 'test_coco.json')
DET = osp.join(SAMPLE, 'test_coco_det_AP_H_56.json')


def write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)  # NaN/inf are written as JSON's NaN/Infinity, as json.dump allows


def build(ann_file, test_mode, bbox_file=None):
    return DATASETS.build(
        dict(
            type='CPNCocoDataset',
            data_root=SAMPLE,
            data_mode='topdown',
            ann_file=ann_file,
            bbox_file=bbox_file,
            data_prefix=dict(img=''),
            test_mode=test_mode,
            pipeline=[]))


@pytest.mark.parametrize('test_mode', [False, True])
@pytest.mark.parametrize('field, position, value', [
    ('keypoints', 3 * 5, math.nan),          # x of the left shoulder
    ('keypoints', 3 * 16 + 1, math.inf),     # y of the right ankle
    ('bbox', 2, math.nan),                   # width
])
def test_non_finite_annotation_fails_at_load(tmp_path, test_mode, field, position, value):
    ann = mmengine.load(ANN)
    target = next(a for a in ann['annotations'] if a['num_keypoints'] > 0)
    target[field][position] = value
    bad = str(tmp_path / 'bad_ann.json')
    write_json(bad, ann)
    with pytest.raises(ValueError) as info:
        build(bad, test_mode)
    message = str(info.value)
    assert 'bad_ann.json' in message
    assert f'annotation id {target["id"]}' in message
    assert f'"{field}"' in message and f'[{position}]' in message


def test_finite_annotations_load_unchanged(tmp_path):
    # the check passes the real sample: same instances as the unchecked parent class
    ours = build(ANN, test_mode=False)
    parent = DATASETS.build(
        dict(type='CocoDataset', data_root=SAMPLE, data_mode='topdown', ann_file=ANN,
             data_prefix=dict(img=''), pipeline=[]))
    assert len(ours) == len(parent) > 0
    for a, b in zip(ours.data_list, parent.data_list):
        np.testing.assert_array_equal(a['keypoints'], b['keypoints'])
        np.testing.assert_array_equal(a['bbox'], b['bbox'])


def test_non_finite_detection_box_fails_at_load(tmp_path):
    dets = mmengine.load(DET)
    dets[2]['bbox'][3] = math.nan
    bad = str(tmp_path / 'bad_dets.json')
    write_json(bad, dets)
    with pytest.raises(ValueError, match=r'bad_dets\.json: detection \d+ .*non-finite "bbox"'):
        build(ANN, test_mode=True, bbox_file=bad)
    assert len(build(ANN, test_mode=True, bbox_file=DET)) > 0


def test_codec_refuses_non_finite_keypoints():
    import cpn_mm  # noqa: F401
    codec = KEYPOINT_CODECS.build(
        dict(type='MultiSigmaHeatmap', input_size=(192, 256), heatmap_size=(48, 64)))
    keypoints = np.full((1, 17, 2), 50.0)
    keypoints[0, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r'`keypoints` must be finite; keypoints \[4\]'):
        codec.encode(keypoints)
    keypoints[0, 4, 1] = 50.0
    assert codec.encode(keypoints)['heatmaps'][0].shape == (17, 64, 48)
