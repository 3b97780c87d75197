# Copyright (c) cpn_mm authors. All rights reserved.
"""cpn_mm.apis.lifting: which keypoint layouts go together, how a lifter window is padded and a
gap bridged, and MMPose's own 3D entry point (``MMPoseInferencer(pose3d=...)``) with a cpn_mm
config (tested with docs/lifting.md's Python block, tests/test_tools/test_lifting_doc.py).
Lifters: MMPose's VideoPose3D configs with random weights."""
import os.path as osp

import numpy as np
import pytest
import torch

from cpn_mm.apis import InputError
from cpn_mm.apis.lifting import (FramePoses, init_lifter, keypoint_conversion, lift, padded_frames,
                                 to_drawing_space)
from ..helpers import SAMPLE_CONFIG


def lifter_config(name: str) -> str:
    """A config of MMPose's ``video_pose_lift/h36m`` folder (installed with MMPose)."""
    import mmpose
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_3d_keypoint',
                    'video_pose_lift', 'h36m', name)
    assert osp.isfile(path), path
    return path


LIFTER_1 = 'video-pose-lift_tcn-1frm-supv-cpn-ft_8xb128-160e_h36m.py'
LIFTER_27 = 'video-pose-lift_tcn-27frm-semi-supv-cpn-ft_8xb64-200e_h36m.py'
LIFTER_243 = 'video-pose-lift_tcn-243frm-supv-cpn-ft_8xb128-200e_h36m.py'


def metainfo(name: str) -> dict:
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(dict(from_file=f'configs/_base_/datasets/{name}.py'))


def one_person(keypoints: np.ndarray, box, track_id: int = 0, score: float = 0.9):
    """A one-person data sample as ``inference_topdown`` returns it, track id set."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    sample = PoseDataSample()
    sample.pred_instances = InstanceData(
        keypoints=np.asarray(keypoints, np.float32).reshape(1, -1, 2),
        keypoint_scores=np.full((1, 17), score, np.float32),
        bboxes=np.asarray(box, np.float32).reshape(1, 4),
        bbox_scores=np.array([score], np.float32))
    sample.track_id = track_id
    return sample


def test_keypoint_conversion():
    coco, h36m, mpii = metainfo('coco'), metainfo('h36m'), metainfo('mpii')
    assert keypoint_conversion(coco, h36m) == 'coco'  # MMPose's convert_keypoint_definition
    assert keypoint_conversion(h36m, h36m) is None  # a 2D model in the lifter's layout
    with pytest.raises(InputError) as e:
        keypoint_conversion(coco, mpii)
    message = str(e.value)
    for part in ('`lifter_config`', "16 keypoints in the 'mpii'", '`config`',
                 "17 keypoints in the 'coco'"):
        assert part in message, message
    with pytest.raises(InputError, match="16 keypoints in the 'mpii'"):
        keypoint_conversion(mpii, h36m)


def test_padded_frames():
    """The frames whose window reaches past either end (MMPose's extract_pose_sequence)."""
    assert padded_frames(4, 27, causal=False) == [0, 1, 2, 3]
    assert padded_frames(40, 27, causal=False) == list(range(13)) + list(range(27, 40))
    assert padded_frames(40, 27, causal=True) == list(range(26))
    assert padded_frames(40, 9, causal=False, seq_step=2) == list(range(8)) + list(range(32, 40))
    assert padded_frames(5, 1, causal=False) == []


def test_lift_pads_with_edge_frames_and_bridges_a_frame_without_person(recwarn):
    """Four frames, the third without a person, through a 27-frame lifter: each frame is lifted
    as the explicit 27-frame sequence with the edge frames repeated (13 on each side of the
    lifted frame) and the gap filled by the frame next to it towards the lifted one."""
    torch.manual_seed(0)
    lifter = init_lifter(lifter_config(LIFTER_27))
    assert any('random weights' in str(w.message) for w in recwarn)
    # this config has no training loader: the meta is its test dataset's, not COCO's default
    assert lifter.dataset_meta['dataset_name'] == 'h36m'
    rng = np.random.default_rng(0)
    poses = [rng.uniform(20, 100, (17, 2)) for _ in range(4)]
    box = [10, 5, 150, 110]

    def frames_of(seq):
        return [FramePoses(i, f'#{i}', (160, 112), [] if p is None else [one_person(p, box)])
                for i, p in enumerate(seq)]

    out = lift(lifter, frames_of([poses[0], poses[1], None, poses[3]]), 'coco')
    assert [len(p) for p in out] == [1, 1, 0, 1]
    # frame 0: [0] * 13 padding, 0, 1, gap -> 1, 3, [3] * 10 padding
    # frame 1: [0] * 12 padding, 0, 1, gap -> 1, 3, [3] * 11 padding
    explicit = {0: [poses[0]] * 14 + [poses[1], poses[1]] + [poses[3]] * 11,
                1: [poses[0]] * 13 + [poses[1], poses[1]] + [poses[3]] * 12}
    for t, seq in explicit.items():
        assert len(seq) == 27
        ref = lift(lifter, frames_of(seq), 'coco')[13][0]  # the middle frame: no padding
        np.testing.assert_allclose(out[t][0]['keypoints_3d'], ref['keypoints_3d'], atol=1e-5)
    # MMPose 1.3.2's collate_pose_sequence would put zeros after the gap: a different input
    zeros = lift(lifter, frames_of([poses[0]] * 13 + [poses[1]] + [np.zeros((17, 2))] * 13),
                 'coco')[13][0]
    assert not np.allclose(out[1][0]['keypoints_3d'], zeros['keypoints_3d'], atol=1e-3)

    person = out[1][0]
    assert person['keypoints_3d'].shape == (17, 3) and person['track_id'] == 0
    # COCO -> Human3.6M: pelvis = mid-hip, thorax = mid-shoulder, right hip = COCO's 12
    np.testing.assert_allclose(person['keypoints_2d'][0], poses[1][[11, 12]].mean(0), atol=1e-4)
    np.testing.assert_allclose(person['keypoints_2d'][8], poses[1][[5, 6]].mean(0), atol=1e-4)
    np.testing.assert_allclose(person['keypoints_2d'][1], poses[1][12], atol=1e-4)
    np.testing.assert_allclose(person['bbox'], box + [0.9], atol=1e-5)


def test_init_lifter_rejects_a_2d_config():
    with pytest.raises(InputError, match="`lifter_config`.*not a pose lifter config"):
        init_lifter(SAMPLE_CONFIG)


def test_to_drawing_space():
    k = np.array([[[1., 2., 3.], [0., -1., 5.]]], np.float32)
    np.testing.assert_allclose(to_drawing_space(k, rebase_height=False),
                               [[[-1., 3., -2.], [0., 5., 1.]]])
    np.testing.assert_allclose(to_drawing_space(k)[..., 2], [[0., 3.]])
