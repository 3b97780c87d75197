# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/demo_3d.py in this process (its command-line run is the first command of
docs/lifting.md, tests/test_tools/test_lifting_doc.py): a video with a frame without person
through CPN and MMPose's 243-frame VideoPose3D lifter (random weights), and its errors."""
import json

import cv2
import numpy as np
import pytest

from ..helpers import SAMPLE, tool_main
from ..test_apis.test_lifting import LIFTER_1, LIFTER_243, lifter_config, metainfo
from ..test_apis.test_lifting_formats import write_video_and_boxes


def test_demo_3d_video_with_a_frame_without_person(sample_checkpoint, tmp_path):
    config, ckpt = sample_checkpoint
    video, boxes = write_video_and_boxes(tmp_path, blank=(2, ))
    out = tmp_path / 'out'
    with pytest.warns(UserWarning, match='5 frame\\(s\\) for a lifter of 243 frames'):
        proc = tool_main('demo_3d.py', config, ckpt, lifter_config(LIFTER_243), '--input',
                         video, '--bboxes', boxes, '--out-dir', str(out), '--backend', 'pytorch')
    assert 'frames without a person: [2]' in proc.stdout, proc.stdout
    assert 'padded (edge frames repeated): 5 of 5 frame(s)' in proc.stdout
    assert '4 3D pose(s) of 1 track(s) in 5 frame(s)' in proc.stdout

    pred = np.load(out / 'predictions_3d.npz')
    np.testing.assert_array_equal(pred['frame_index'], [0, 1, 3, 4])
    np.testing.assert_array_equal(pred['track_id'], [0, 0, 0, 0])  # the gap keeps the track
    assert pred['keypoints_3d'].shape == (4, 17, 3) and pred['keypoints_3d'].dtype == np.float32
    assert np.isfinite(pred['keypoints_3d']).all()
    assert pred['keypoints_2d'].shape == (4, 17, 2) and pred['keypoint_scores_2d'].shape == (4, 17)
    np.testing.assert_allclose(pred['bboxes'], [[8, 4, 120, 100, 0.9]] * 4, atol=1e-5)
    assert list(pred['joint_names']) == [metainfo('h36m')['keypoint_id2name'][i]
                                         for i in range(17)]
    np.testing.assert_array_equal(pred['frames_without_person'], [2])
    np.testing.assert_array_equal(pred['frame_sizes'], [[160, 112]] * 5)
    np.testing.assert_array_equal(pred['padded_frames'], range(5))
    assert int(pred['seq_len']) == 243 and not bool(pred['causal'])
    assert list(pred['frame_names']) == [f'{video}#{i}' for i in range(5)]

    doc = json.loads((out / 'predictions_3d.json').read_text())
    assert doc['frames_without_person'] == [2] and doc['frames'][2]['persons'] == []
    assert [len(f['persons']) for f in doc['frames']] == [1, 1, 0, 1, 1]
    np.testing.assert_allclose(doc['frames'][3]['persons'][0]['keypoints_3d'],
                               pred['keypoints_3d'][2], atol=1e-4)

    cap = cv2.VideoCapture(str(out / 'clip.mp4'))  # every frame drawn, the blank one too
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    assert count == 5


def test_demo_3d_errors(sample_checkpoint, tmp_path):
    """A lifter in another joint layout, and a 2D config given as the lifter: exit status 2,
    the message names both models' layouts / the option, no traceback."""
    config, ckpt = sample_checkpoint
    mpii_lifter = tmp_path / 'lifter_mpii.py'
    meta = "dict(dataset=dict(metainfo=dict(from_file='configs/_base_/datasets/mpii.py')))"
    mpii_lifter.write_text(f'_base_ = [{lifter_config(LIFTER_1)!r}]\n'
                           f'train_dataloader = {meta}\nval_dataloader = {meta}\n'
                           f'test_dataloader = {meta}\n')
    proc = tool_main('demo_3d.py', config, ckpt, str(mpii_lifter), '--input', SAMPLE,
                     '--out-dir', str(tmp_path / 'out'), '--backend', 'pytorch', check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: the lifter lifter_config takes 16 keypoints in the "
                                  "'mpii' layout, the 2D model config gives 17 keypoints in "
                                  "the 'coco' layout"), proc.stderr
    assert 'Traceback' not in proc.stderr

    proc = tool_main('demo_3d.py', config, ckpt, config, '--input', SAMPLE, '--out-dir',
                     str(tmp_path / 'out'), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: lifter_config') and 'not a pose lifter' in proc.stderr
