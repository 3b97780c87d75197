# Copyright (c) cpn_mm authors. All rights reserved.
"""cpn_mm.apis.lifting_formats: the files lifters train on, read back by their readers: MMPose's
``Human36mDataset`` for ``joint_2d_det_files``, and a re-implementation of VideoPose3D's
``data/prepare_data_2d_custom.py`` ``decode`` (from its documented behaviour: per frame the
highest-scoring box's keypoints, frames without a box interpolated linearly) for its ``.npz``."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from cpn_mm.apis import InputError
from cpn_mm.apis.lifting import FramePoses
from cpn_mm.apis.lifting_formats import (check_videopose3d_layout, h36m_meta, joint_names,
                                         mmpose_det_arrays, videopose3d_arrays)
from ..helpers import SAMPLE, SAMPLE_IMAGES, tool_main
from .test_lifting import metainfo, one_person


def decode_videopose3d(path: str):
    """VideoPose3D's ``prepare_data_2d_custom.decode``: (T, 17, 2) COCO keypoints of the best
    box per frame, frames without a box linearly interpolated; boxes (T, 4); metadata."""
    data = np.load(path, encoding='latin1', allow_pickle=True)
    bb, kp, metadata = data['boxes'], data['keypoints'], data['metadata'].item()
    results_bb, results_kp = [], []
    for i in range(len(bb)):
        if len(bb[i][1]) == 0 or len(kp[i][1]) == 0:
            results_bb.append(np.full(4, np.nan, dtype=np.float32))
            results_kp.append(np.full((17, 4), np.nan, dtype=np.float32))
            continue
        best = np.argmax(bb[i][1][:, 4])
        results_bb.append(bb[i][1][best, :4])
        results_kp.append(kp[i][1][best].T.copy())
    bb = np.array(results_bb, dtype=np.float32)
    kp = np.array(results_kp, dtype=np.float32)[:, :, :2]
    mask = ~np.isnan(bb[:, 0])
    indices = np.arange(len(bb))
    for i in range(4):
        bb[:, i] = np.interp(indices, indices[mask], bb[mask, i])
    for i in range(17):
        for j in range(2):
            kp[:, i, j] = np.interp(indices, indices[mask], kp[mask, i, j])
    return kp, bb, metadata, data['segments']


def coco_to_h36m(keypoints):
    from mmpose.apis import convert_keypoint_definition
    return convert_keypoint_definition(np.asarray(keypoints, np.float32), 'coco', 'h36m')


def test_formats_of_two_tracks_and_a_frame_without_person(tmp_path):
    """Track 0 in frames 0, 1, 3; track 1 (a lower box score) in frame 1 only; nobody in 2."""
    rng = np.random.default_rng(1)
    p0 = [rng.uniform(0, 60, (17, 2)) for _ in range(4)]
    p1 = rng.uniform(60, 120, (17, 2))
    box0, box1 = [1, 2, 70, 90], [60, 5, 130, 100]
    frames = [FramePoses(0, 'f0', (140, 100), [one_person(p0[0], box0, 0)]),
              FramePoses(1, 'f1', (140, 100), [one_person(p1, box1, 1, score=0.5),
                                               one_person(p0[1], box0, 0)]),
              FramePoses(2, 'f2', (140, 100)),
              FramePoses(3, 'f3', (140, 100), [one_person(p0[3], box0, 0)])]

    arrays = mmpose_det_arrays(frames, 'coco')
    assert sorted(arrays) == [0, 1]
    a0, a1 = arrays[0]['array'], arrays[1]['array']
    assert a0.shape == (4, 17, 3) and a0.dtype == np.float32
    assert arrays[0]['missing'] == [2] and arrays[1]['missing'] == [0, 2, 3]
    for t in (0, 1, 3):
        np.testing.assert_allclose(a0[t, :, :2], coco_to_h36m(p0[t][None])[0], atol=1e-4)
        np.testing.assert_allclose(a0[t, :, 2], 0.9, atol=1e-6)
    # absent: x, y interpolated (the middle of frames 1 and 3), score 0
    np.testing.assert_allclose(a0[2, :, :2], (a0[1, :, :2] + a0[3, :, :2]) / 2, atol=1e-4)
    assert (a0[2, :, 2] == 0).all()
    # before/after a track's frames: its first/last frame repeated, score 0
    for t in (0, 2, 3):
        np.testing.assert_allclose(a1[t, :, :2], a1[1, :, :2])
        assert (a1[t, :, 2] == 0).all()

    path = str(tmp_path / 'clip.mp4.npz')
    np.savez_compressed(path, **videopose3d_arrays(frames))
    kp, bb, metadata, segments = decode_videopose3d(path)
    assert metadata == {'w': 140, 'h': 100} and list(segments) == [None] * 4
    assert kp.shape == (4, 17, 2)
    for t in (0, 1, 3):  # the highest box score: track 0, COCO order, pixels
        np.testing.assert_allclose(kp[t], p0[t], atol=1e-4)
        np.testing.assert_allclose(bb[t], box0)
    np.testing.assert_allclose(kp[2], (p0[1] + p0[3]) / 2, atol=1e-4)
    raw = np.load(path, allow_pickle=True)
    assert raw['keypoints'][1][1].shape == (2, 4, 17)  # x, y, logit, score rows
    np.testing.assert_allclose(raw['keypoints'][1][1][0, 3], 0.5)  # track 1's scores
    assert len(raw['boxes'][2][1]) == 0


def test_videopose3d_needs_coco_keypoints():
    check_videopose3d_layout(metainfo('coco'))
    with pytest.raises(InputError, match="`formats` videopose3d.*17 in the 'h36m' layout"):
        check_videopose3d_layout(metainfo('h36m'))


def read_with_mmpose_h36m_dataset(det_file: str, num: int, tmp_path):
    """``Human36mDataset`` reading ``det_file`` as its ``keypoint_2d_det_file`` for a
    ``num``-frame annotation file (one Human3.6M sequence, 1-frame samples)."""
    from mmpose.datasets import Human36mDataset
    ann = str(tmp_path / 'h36m_ann.npz')
    np.savez(ann, imgname=np.array([f'S1_Directions_1.54138969_{i + 1:06d}.jpg'
                                    for i in range(num)]),
             S=np.zeros((num, 17, 4), np.float32), center=np.zeros((num, 2), np.float32),
             scale=np.ones(num, np.float32))
    dataset = Human36mDataset(ann_file=ann, data_root=str(tmp_path), seq_len=1, causal=False,
                              keypoint_2d_src='detection', keypoint_2d_det_file=det_file,
                              pipeline=[], test_mode=True)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.mark.e2e
def test_export_tool_on_a_video_with_a_blank_frame(sample_checkpoint, tmp_path):
    """tools/export_2d_for_lifting.py on a 5-frame video whose frame 2 has no box: MMPose's
    Human3.6M reader and VideoPose3D's decoding read the files; both agree."""
    config, ckpt = sample_checkpoint
    video, boxes = write_video_and_boxes(tmp_path, blank=(2, ))
    out = tmp_path / 'export'
    proc = tool_main('export_2d_for_lifting.py', config, ckpt, '--input', video, '--bboxes',
                     boxes, '--out-dir', str(out), '--backend', 'pytorch')
    assert 'without a person: [2]' in proc.stdout, proc.stdout
    index = json.loads((out / 'export_2d.json').read_text())
    assert index['frames'] == 5 and index['frames_without_person'] == [2]
    assert index['frame_size'] == [160, 112]
    assert list(index['tracks']) == ['0'] and index['tracks']['0']['missing'] == [2]
    assert index['joint_order']['mmpose'] == joint_names(h36m_meta())
    det_file = index['tracks']['0']['file']
    assert det_file == str(out / 'joint_2d_det_files' / 'clip_track0.npy')
    det = np.load(det_file)
    assert det.shape == (5, 17, 3) and det.dtype == np.float32
    assert (det[2, :, 2] == 0).all() and (det[[0, 1, 3, 4], :, 2] > 0).all()
    assert np.isfinite(det).all()

    infos = read_with_mmpose_h36m_dataset(det_file, 5, tmp_path)
    assert len(infos) == 5
    for t, info in enumerate(infos):
        np.testing.assert_array_equal(info['keypoints'].reshape(17, 2), det[t, :, :2])
        np.testing.assert_array_equal(info['keypoints_visible'].reshape(17), det[t, :, 2])

    assert index['videopose3d'] == str(out / 'videopose3d' / 'clip.mp4.npz')
    kp, bb, metadata, _ = decode_videopose3d(index['videopose3d'])
    assert metadata == {'w': 160, 'h': 112} and kp.shape == (5, 17, 2)
    np.testing.assert_allclose(bb[[0, 1, 3, 4]], [[8, 4, 120, 100]] * 4)
    # the same CPN keypoints: COCO order there, Human3.6M here (frame 2 interpolated in both)
    np.testing.assert_allclose(coco_to_h36m(kp), det[..., :2], atol=1e-3)


def write_video_and_boxes(tmp_path, blank=(2, ), num: int = 5):
    """A small video (160 x 112, ``num`` frames of a sample image, the ``blank`` ones black)
    and a box JSON with one person box ``[8, 4, 120, 100]`` (xyxy) in every frame but the
    blank ones (matched by frame index)."""
    img = cv2.resize(cv2.imread(osp.join(SAMPLE, SAMPLE_IMAGES[1])), (160, 112))
    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5, (160, 112))
    assert writer.isOpened()
    for i in range(num):
        writer.write(np.zeros_like(img) if i in blank else np.roll(img, 2 * i, axis=1))
    writer.release()
    boxes = str(tmp_path / 'boxes.json')
    with open(boxes, 'w') as f:
        json.dump([dict(image_id=i, bbox=[8, 4, 112, 96], score=0.9, category_id=1)
                   for i in range(num) if i not in blank], f)
    return video, boxes
