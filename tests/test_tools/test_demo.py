# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/demo.py (cpn_mm.apis.run_demo) end to end on the real sample images: box JSON, mmdet
detector, video, bad inputs, bfloat16 and the ONNX Runtime backend."""
import json
import os
import os.path as osp
from contextlib import nullcontext

import cv2
import mmengine
import numpy as np
import pytest

from cpn_mm.apis import InputError, run_demo
from cpn_mm.apis.inference import boxes_from_detector, clip_boxes
from ..helpers import (DET_JSON, SAMPLE, SAMPLE_IDS, SAMPLE_IMAGES, forbid_network,
                       person_rtmdet_checkpoint, rtmdet_tiny_config, tool_main)

K = 17


def check_results(results, image_ids, sizes=None):
    """COCO keypoint results: ids, category, 3K keypoint values, score = box x mean kpt."""
    assert isinstance(results, list)
    for r in results:
        assert r['image_id'] in image_ids
        assert r['category_id'] == 1
        kpts = np.array(r['keypoints'], dtype=np.float64).reshape(K, 3)
        assert np.isfinite(kpts).all()
        assert 0 < r['score'] <= kpts[:, 2].mean() + 1e-3  # box score <= 1, rounding
        if sizes is not None:
            w, h = sizes[r['image_id']]
            x, y, bw, bh = r['bbox']
            assert 0 <= x and 0 <= y and x + bw <= w + 1e-3 and y + bh <= h + 1e-3
            # keypoints lie in the box's crop (padded by 1.25, widened to the crop's aspect)
            m = max(bw, bh)
            assert (np.abs(kpts[:, :2] - [x + bw / 2, y + bh / 2]) <= m).all()


def sample_sizes():
    with open(osp.join(SAMPLE, 'test_coco.json')) as f:
        return {im['id']: (im['width'], im['height']) for im in json.load(f)['images']}


@pytest.fixture(scope='module')
def pytorch_demo(sample_checkpoint, tmp_path_factory):
    """The demo through PyTorch float32 on the sample folder with the shipped detections
    (its summary); the bfloat16 and ONNX Runtime runs are compared with it."""
    config, ckpt = sample_checkpoint
    return run_demo(config, ckpt, input=SAMPLE, bboxes=DET_JSON, kpt_thr=0.3, backend='pytorch',
                    out_dir=str(tmp_path_factory.mktemp('demo_pytorch')))


def test_demo_box_json(sample_checkpoint, tmp_path):
    """The documented options (docs/inference.md runs the same command line): the sample
    folder + the detection JSON; every detection a person, every picture drawn."""
    config, ckpt = sample_checkpoint
    out = tmp_path / 'out'
    tool_main('demo.py', config, ckpt, '--input', SAMPLE, '--bboxes', DET_JSON, '--out-dir',
             str(out), '--device', 'cpu', '--kpt-thr', '0.3')
    with open(DET_JSON) as f:
        dets = [d for d in json.load(f) if d['score'] >= 0.3 and d['category_id'] == 1]
    results = mmengine.load(out / 'predictions.json')
    assert len(results) == len(dets) > 0
    check_results(results, SAMPLE_IDS, sample_sizes())
    for name in SAMPLE_IMAGES:
        src = cv2.imread(osp.join(SAMPLE, name))
        drawn = cv2.imread(str(out / name))
        assert drawn is not None and drawn.shape == src.shape
        # the skeleton is drawn: many pixels changed (JPEG noise alone changes few)
        changed = (np.abs(drawn.astype(int) - src.astype(int)).max(-1) > 60).mean()
        assert changed > 1e-3, name


def test_demo_mmdet_detector(sample_checkpoint, tmp_path, monkeypatch):
    """A real mmdet config (RTMDet-tiny) through mmdet's API, with a hand-set checkpoint
    (--det-checkpoint) and with random weights; a score threshold of 1.01 leaves no detection:
    the image is copied unchanged and the results are empty."""
    from mmdet.apis import init_detector
    from mmpose.utils import adapt_mmdet_pipeline
    forbid_network(monkeypatch)
    config, ckpt = sample_checkpoint
    det_cfg = rtmdet_tiny_config(str(tmp_path))
    det_ckpt = person_rtmdet_checkpoint(det_cfg, str(tmp_path / 'rtmdet_person.pth'))
    img_path = osp.join(SAMPLE, SAMPLE_IMAGES[1])  # 500 x 333
    img = cv2.imread(img_path)
    det = init_detector(det_cfg, det_ckpt, device='cpu')
    det.cfg = adapt_mmdet_pipeline(det.cfg)
    expected, _ = clip_boxes(boxes_from_detector(det, img, 0, 0.3, 0.3), 500, 333)
    assert len(expected) > 1

    out = tmp_path / 'det'
    run_demo(config, ckpt, img_path, det_config=det_cfg, det_checkpoint=det_ckpt,
             out_dir=str(out))
    results = mmengine.load(out / 'predictions.json')
    assert len(results) == len(expected)
    xywh = np.concatenate([expected[:, :2], expected[:, 2:4] - expected[:, :2]], axis=1)
    np.testing.assert_allclose(sorted(r['bbox'] for r in results), sorted(xywh.tolist()),
                               atol=0.02)
    check_results(results, {SAMPLE_IDS[1]}, sample_sizes())
    assert cv2.imread(str(out / SAMPLE_IMAGES[1])).shape == img.shape

    # random weights (no checkpoint): runs, whatever it finds is well-formed
    out_rand = tmp_path / 'rand'
    run_demo(config, ckpt, img_path, det_config=det_cfg, out_dir=str(out_rand))
    check_results(mmengine.load(out_rand / 'predictions.json'), {SAMPLE_IDS[1]},
                  sample_sizes())
    assert cv2.imread(str(out_rand / SAMPLE_IMAGES[1])).shape == img.shape

    out2 = tmp_path / 'nodet'
    run_demo(config, ckpt, img_path, det_config=det_cfg, det_checkpoint=det_ckpt,
             bbox_thr=1.01, out_dir=str(out2))
    assert mmengine.load(out2 / 'predictions.json') == []
    with open(img_path, 'rb') as a, open(out2 / SAMPLE_IMAGES[1], 'rb') as b:
        assert a.read() == b.read()


def test_demo_video_whole_frame(sample_checkpoint, tmp_path):
    """A video in, a drawn video out; no box source: the whole frame is the box."""
    config, ckpt = sample_checkpoint
    frame = cv2.resize(cv2.imread(osp.join(SAMPLE, SAMPLE_IMAGES[1])), (160, 112))
    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5, (160, 112))
    assert writer.isOpened()
    for i in range(3):
        writer.write(np.roll(frame, 8 * i, axis=1))
    writer.release()
    out = tmp_path / 'vid'
    run_demo(config, ckpt, video, out_dir=str(out))
    results = mmengine.load(out / 'predictions.json')
    assert sorted(r['image_id'] for r in results) == [0, 1, 2]
    check_results(results, {0, 1, 2}, {i: (160, 112) for i in range(3)})
    cap = cv2.VideoCapture(str(out / 'clip.mp4'))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    assert len(frames) == 3 and frames[0].shape == (112, 160, 3)


def test_demo_clips_boxes_outside_image(sample_checkpoint, tmp_path):
    """Boxes sticking out of the image are clipped, boxes fully outside dropped."""
    config, ckpt = sample_checkpoint
    name = SAMPLE_IMAGES[1]  # 500 x 333
    boxes = [dict(file_name=name, bbox=[-50, -40, 300, 500], score=0.9, category_id=1),
             dict(image_id=SAMPLE_IDS[1], bbox=[400, 100, 500, 100], score=0.8),
             dict(image_id=SAMPLE_IDS[1], bbox=[600, 400, 50, 50], score=0.9, category_id=1),
             dict(image_id=SAMPLE_IDS[1], bbox=[10, 10, 50, 50], score=0.9, category_id=2)]
    box_json = tmp_path / 'boxes.json'
    box_json.write_text(json.dumps(boxes))
    out = tmp_path / 'out'
    with pytest.warns(UserWarning, match='dropped 1 box'):
        run_demo(config, ckpt, osp.join(SAMPLE, name), bboxes=str(box_json),
                 out_dir=str(out))
    results = mmengine.load(out / 'predictions.json')
    assert len(results) == 2
    np.testing.assert_allclose(sorted(r['bbox'] for r in results),
                               [[0, 0, 250, 333], [400, 100, 100, 100]], atol=0.01)
    check_results(results, {SAMPLE_IDS[1]}, sample_sizes())


@pytest.mark.parametrize('case', ['unreadable_image', 'missing_checkpoint', 'bad_video',
                                  'missing_input', 'bad_box_json', 'onnx_with_bf16'])
def test_demo_bad_inputs(sample_checkpoint, tmp_path, case):
    """Clear errors naming the argument and the path (InputError), no OpenCV traceback."""
    config, ckpt = sample_checkpoint
    kwargs = dict(config=config, checkpoint=ckpt, input=osp.join(SAMPLE, SAMPLE_IMAGES[0]),
                  out_dir=str(tmp_path / 'out'))
    if case == 'unreadable_image':
        bad = tmp_path / 'broken.jpg'
        bad.write_bytes(b'\xff\xd8 this is not a JPEG')
        kwargs['input'], expected = str(bad), 'cannot read image'
    elif case == 'missing_checkpoint':
        kwargs['checkpoint'], expected = str(tmp_path / 'nope.pth'), 'checkpoint'
    elif case == 'bad_video':
        bad = tmp_path / 'broken.mp4'
        bad.write_bytes(os.urandom(2048))
        kwargs['input'], expected = str(bad), 'cannot open video'
    elif case == 'missing_input':
        kwargs['input'], expected = str(tmp_path / 'nothing.jpg'), '`input`'
    elif case == 'bad_box_json':
        bad = tmp_path / 'boxes.json'
        bad.write_text(json.dumps([dict(image_id=785, bbox=[1, 2, 3], score=1.)]))
        kwargs['bboxes'] = str(bad)
        expected = '"bbox" must be 4 finite numbers'
    else:
        kwargs.update(backend='onnxruntime', dtype='bfloat16')
        expected = "`backend` 'onnxruntime' runs its own graph: `dtype` 'bfloat16'"

    with pytest.raises(InputError, match=expected):
        run_demo(**kwargs)


def test_demo_cli_error_exit_code(sample_checkpoint, tmp_path):
    """The command line prints ``error: ...`` naming the argument, exit status 2, no
    traceback."""
    config, _ = sample_checkpoint
    missing = str(tmp_path / 'nope.pth')
    proc = tool_main('demo.py', config, missing, '--input', SAMPLE, '--out-dir',
                     str(tmp_path / 'out'), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith('error: checkpoint') and missing in proc.stderr
    assert 'Traceback' not in proc.stderr


def _keypoints_by_box(pred_file):
    """{(image_id, rounded bbox): keypoints (K, 3)} of a results JSON."""
    out = {}
    for r in mmengine.load(pred_file):
        out[(r['image_id'], tuple(np.round(r['bbox'], 1)))] = np.array(r['keypoints'])
    return out


def test_demo_onnxruntime_backend_identical_keypoints(sample_checkpoint, pytorch_demo,
                                                     onnx_files, tmp_path):
    """--backend onnxruntime (exported on the fly, and from a given --onnx file): the same
    keypoints as PyTorch on the sample with the detected boxes (flip test on, same decoding);
    scores within float rounding."""
    config, ckpt = sample_checkpoint
    summary = run_demo(config, ckpt, input=SAMPLE, bboxes=DET_JSON, kpt_thr=0.3,
                       out_dir=str(tmp_path / 'ort'), backend='onnxruntime')
    onnx_file = tmp_path / 'ort' / (osp.splitext(osp.basename(config))[0] + '.onnx')
    assert onnx_file.is_file()
    pt = _keypoints_by_box(pytorch_demo['pred_out'])
    ort = _keypoints_by_box(summary['pred_out'])
    assert set(pt) == set(ort) and len(pt) > 5
    for key in pt:
        a, b = pt[key].reshape(-1, 3), ort[key].reshape(-1, 3)
        np.testing.assert_array_equal(b[:, :2], a[:, :2])  # identical keypoints
        np.testing.assert_allclose(b[:, 2], a[:, 2], atol=2e-3)  # scores, rounded to 1e-3
    # the command line's options with an exported file (the session's export)
    tool_main('demo.py', config, ckpt, '--input', osp.join(SAMPLE, SAMPLE_IMAGES[0]),
              '--bboxes', DET_JSON, '--out-dir', str(tmp_path / 'cli'), '--backend',
              'onnxruntime', '--onnx', onnx_files[0])
    cli = _keypoints_by_box(tmp_path / 'cli' / 'predictions.json')
    assert cli
    for key in cli:
        np.testing.assert_array_equal(cli[key].reshape(-1, 3)[:, :2], pt[key].reshape(-1, 3)[:, :2])


def test_demo_bfloat16(sample_checkpoint, pytorch_demo, tmp_path):
    """--dtype bfloat16: same boxes and results format; keypoints near the float32 ones (the
    sample AP test of the bfloat16 path is the real check)."""
    config, ckpt = sample_checkpoint
    summary = run_demo(config, ckpt, input=SAMPLE, bboxes=DET_JSON, kpt_thr=0.3,
                       out_dir=str(tmp_path / 'bf16'), dtype='bfloat16')
    a = _keypoints_by_box(pytorch_demo['pred_out'])
    b = _keypoints_by_box(summary['pred_out'])
    assert set(a) == set(b) and len(a) > 5
    check_results(mmengine.load(summary['pred_out']), SAMPLE_IDS, sample_sizes())


@pytest.mark.parametrize('device, mmcv_cuda, expected', [
    ('cpu', 'not available', 'cpu'),
    ('cuda:0', '13.0', 'cuda:0'),          # mmcv built with its CUDA ops: the detector on the GPU
    ('cuda:0', 'not available', 'cpu'),    # CPU-only mmcv ops: the detector on the CPU
])
def test_detector_device(device, mmcv_cuda, expected):
    from cpn_mm.apis.demo import detector_device
    if expected != device:
        with pytest.warns(UserWarning, match='detector runs on the CPU.*pose model runs on cuda:0'):
            assert detector_device(device, mmcv_cuda) == expected
    else:
        assert detector_device(device, mmcv_cuda) == expected


def test_detector_device_reads_the_installed_mmcv():
    from mmcv.ops import get_compiling_cuda_version

    from cpn_mm.apis.demo import detector_device
    compiled = get_compiling_cuda_version()
    with pytest.warns(UserWarning) if compiled == 'not available' else nullcontext():
        got = detector_device('cuda:0')
    assert got == ('cpu' if compiled == 'not available' else 'cuda:0')
