# Copyright (c) cpn_mm authors. All rights reserved.
"""CPNH36mDataset: MMPose's Human3.6M layout, CPN's visible flag, files without occlusion
labels."""
import json
import os.path as osp

import numpy as np
import pytest
from mmpose.registry import DATASETS

from ..helpers import SAMPLE

STANDIN = 'h36m_standin.json'


def build(ann_file=STANDIN, test_mode=False, **kwargs):
    return DATASETS.build(
        dict(type='CPNH36mDataset', data_root=SAMPLE, data_mode='topdown', ann_file=ann_file,
             data_prefix=dict(img=''), test_mode=test_mode, pipeline=[], **kwargs))


def file_flags(path=osp.join(SAMPLE, STANDIN)) -> dict:
    with open(path) as f:
        return {a['id']: np.array(a['keypoints']).reshape(17, 3)[:, 2]
                for a in json.load(f)['annotations']}


def test_h36m_metainfo_and_cpn_visible_flag():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    ds = build()
    h36m = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/h36m.py'))
    assert ds.metainfo['dataset_name'] == 'h36m' and ds.metainfo['num_keypoints'] == 17
    assert ds.metainfo['flip_indices'] == h36m['flip_indices']
    flags = file_flags()
    assert len(ds) == 12  # the sample's persons with keypoints
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        v = flags[info['id']]
        np.testing.assert_array_equal(info['keypoints_visible'][0, :, 0], np.minimum(1, v))
        np.testing.assert_array_equal(info['keypoints_visible'][0, :, 1], v == 2)
    test = build(test_mode=True)
    assert test.get_data_info(0)['keypoints_visible'].shape == (1, 17)


def test_without_occlusion_labels_every_labelled_joint_is_visible(tmp_path):
    """A file whose flags only say "labelled" (v = 1 everywhere, as MMPose's h36m_to_coco.py
    writes Human3.6M) is refused with COCO's flags, naming the option, and trains GlobalNet on
    every labelled joint with occlusion_labels=False."""
    with open(osp.join(SAMPLE, STANDIN)) as f:
        ann = json.load(f)
    for a in ann['annotations']:
        kpts = np.array(a['keypoints']).reshape(17, 3)
        kpts[:, 2] = np.minimum(kpts[:, 2], 1)
        a['keypoints'] = kpts.ravel().tolist()
    path = str(tmp_path / 'labelled_only.json')
    with open(path, 'w') as f:
        json.dump(ann, f)
    with pytest.raises(ValueError, match=r'labelled_only.json: no keypoint has the visible flag '
                       r'v = 2.*set occlusion_labels=False'):
        build(path)
    ds = build(path, occlusion_labels=False)
    flags = file_flags(path)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        np.testing.assert_array_equal(info['keypoints_visible'][0, :, 1], flags[info['id']])
    build(path, test_mode=True)  # evaluation reads only "labelled"
    with pytest.raises(TypeError, match="occlusion_labels: expected True or False, got 'no'"):
        build(occlusion_labels='no')
