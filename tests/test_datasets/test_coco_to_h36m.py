# Copyright (c) cpn_mm authors. All rights reserved.
"""COCO-17 to Human3.6M-17: MMPose's joint definitions, honest flags, the committed stand-in."""
import copy
import json
import os.path as osp

import numpy as np
import pytest

from cpn_mm.datasets import coco_to_h36m_annotations, coco_to_h36m_keypoints
from cpn_mm.datasets.coco_to_h36m import H36M_NAMES
from ..helpers import ANN, SAMPLE, tool_main

STANDIN = osp.join(SAMPLE, 'h36m_standin.json')
DERIVED = {'root': (11, 12), 'spine': (5, 6, 11, 12), 'thorax': (5, 6), 'head': (1, 2)}


def sample_keypoints() -> np.ndarray:
    with open(ANN) as f:
        return np.array([a['keypoints'] for a in json.load(f)['annotations']],
                        dtype=np.float64).reshape(-1, 17, 3)


def test_positions_are_mmposes_convert_keypoint_definition():
    """Where every source is labelled, the joints are MMPose's COCO to Human3.6M conversion
    (the one its 3D lifting demo feeds the lifters), on the sample and on random keypoints."""
    from mmpose.apis.inference_3d import convert_keypoint_definition
    rng = np.random.default_rng(0)
    random = np.concatenate([rng.uniform(0, 640, (50, 17, 2)), np.full((50, 17, 1), 2.)], -1)
    for coco in (sample_keypoints(), random):
        ours = coco_to_h36m_keypoints(coco)
        mmpose = convert_keypoint_definition(coco[..., :2], 'coco', 'h36m')
        labelled = ours[..., 2] > 0
        assert labelled.sum() > 100
        np.testing.assert_allclose(ours[..., :2][labelled], mmpose[labelled], atol=1e-9)


def test_a_derived_joint_is_visible_only_if_all_its_sources_are():
    coco = np.tile(np.arange(17 * 3, dtype=np.float64).reshape(1, 17, 3), (3, 1, 1))
    coco[..., 2] = 2
    coco[1, 11, 2] = 1  # left hip occluded: root and spine are labelled, not visible
    coco[2, 2] = 0      # right eye unlabelled: no head
    out = coco_to_h36m_keypoints(coco)
    v = {name: out[:, H36M_NAMES.index(name), 2].tolist() for name in DERIVED}
    assert v == {'root': [2, 1, 2], 'spine': [2, 1, 2], 'thorax': [2, 2, 2], 'head': [2, 2, 0]}
    assert out[2, H36M_NAMES.index('head')].tolist() == [0, 0, 0]
    assert out[1, H36M_NAMES.index('left_hip')].tolist() == [33, 34, 1]
    # every flag of the sample is the minimum of its sources' flags
    coco = sample_keypoints()
    out = coco_to_h36m_keypoints(coco)
    for name, sources in DERIVED.items():
        np.testing.assert_array_equal(out[:, H36M_NAMES.index(name), 2],
                                      coco[:, list(sources), 2].min(axis=1))


def test_committed_standin_is_the_tools_output(tmp_path):
    """data/coco_sample/h36m_standin.json is what the converter's command writes from the COCO
    sample (tools/dataset_converters/coco_to_h36m.py's main, in this process)."""
    out = str(tmp_path / 'h36m.json')
    proc = tool_main('dataset_converters/coco_to_h36m.py', ANN, out)
    assert '14 annotations' in proc.stdout
    with open(out) as f, open(STANDIN) as g:
        written, committed = json.load(f), json.load(g)
    assert written == committed
    with open(ANN) as f:
        coco = json.load(f)
    assert [a['id'] for a in committed['annotations']] == [a['id'] for a in coco['annotations']]
    assert committed['images'] == coco['images']
    assert committed['categories'][0]['keypoints'] == list(H36M_NAMES)
    # persons without keypoints stay, with none
    assert [a['num_keypoints'] == 0 for a in committed['annotations']] == \
        [a['num_keypoints'] == 0 for a in coco['annotations']]


def test_bad_input_names_the_file_and_annotation(tmp_path):
    with open(ANN) as f:
        coco = json.load(f)
    bad = copy.deepcopy(coco)
    bad['annotations'][3]['keypoints'] = bad['annotations'][3]['keypoints'][:-3]
    with pytest.raises(ValueError, match=rf'x.json: annotation id {bad["annotations"][3]["id"]} '
                       r'has 48 keypoint values, expected 51'):
        coco_to_h36m_annotations(bad, 'x.json')
    bad = copy.deepcopy(coco)
    bad['categories'][0]['keypoints'] = bad['categories'][0]['keypoints'][::-1]
    with pytest.raises(ValueError, match="y.json: expected one person category with COCO's 17"):
        coco_to_h36m_annotations(bad, 'y.json')
    with pytest.raises(ValueError, match=r'expected shape \(N, 17, 3\)'):
        coco_to_h36m_keypoints(np.zeros((2, 16, 3)))
    proc = tool_main('dataset_converters/coco_to_h36m.py', str(tmp_path / 'none.json'),
                     str(tmp_path / 'out.json'), check=False)
    assert proc.returncode == 1 and 'in_file: no such file' in proc.stderr
