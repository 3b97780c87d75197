# Copyright (c) cpn_mm authors. All rights reserved.
"""``tools/demo.py`` and ``tools/demo_3d.py`` end to end on a video: frames/s, and detector,
pose, lifting and drawing time per frame, side by side.

    python benchmarks/demo_video.py [--config configs/cpn_r50_coco_256x192.py] [--frames 8]
        [--threads 2] [--backends pytorch openvino-int8 ...] [--modes 2d 3d]
        [--lifter <an MMPose PoseLifter config>]

The video: the four images of data/coco_sample letterboxed to 640x480, ``--frames`` frames
each (mp4v). Two runs of :func:`cpn_mm.apis.run_demo` per pose backend:

- with an MMDetection detector (RTMDet-tiny from mmdet's configs). No detector weights can be
  downloaded here, so it has random weights: its compute per frame is real, but it finds no
  person, so this run times the detector;
- with the video's person boxes given as a box JSON (the sample's ground-truth boxes, moved
  with the letterbox): this run times CPN on the real number of persons per frame.

The pose model is the config's (random weights unless ``--checkpoint``: the speed is the same).
Mode ``2d`` is :func:`cpn_mm.apis.run_demo` (2D keypoints drawn with MMPose's
``PoseLocalVisualizer``), mode ``3d`` :func:`cpn_mm.apis.run_demo_3d` (the same boxes and 2D
path, then track ids, Human3.6M joints, the lifter (``--lifter``, default MMPose's 243-frame
VideoPose3D ``cpn-ft`` config, random weights) and the 3D drawing); frames/s count everything
after the models are built, drawing and writing included.
``openvino-int8`` and ``onnxruntime-int8`` quantize it first on the sample's crops.
"""
import argparse
import json
import os.path as osp
import sys
import tempfile
from typing import List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE = osp.join(REPO, 'data', 'coco_sample')
BACKENDS = {'pytorch': ('pytorch', 'f32'), 'pytorch-bf16': ('pytorch', 'bf16'),
            'openvino': ('openvino', None), 'openvino-int8': ('openvino', 'int8'),
            'onnxruntime-int8': ('onnxruntime', 'int8')}


def make_video(folder: str, frames_per_image: int, size=(640, 480)):
    """(video path, box JSON path, frames): the sample images letterboxed into ``size``."""
    import cv2
    with open(osp.join(SAMPLE, 'test_coco.json')) as f:
        coco = json.load(f)
    w, h = size
    video = osp.join(folder, 'sample.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 25., size)
    boxes, frame = [], 0
    for img in coco['images']:
        im = cv2.imread(osp.join(SAMPLE, img['file_name']))
        s = min(w / im.shape[1], h / im.shape[0])
        nw, nh = int(im.shape[1] * s), int(im.shape[0] * s)
        canvas = np.zeros((h, w, 3), np.uint8)
        x0, y0 = (w - nw) // 2, (h - nh) // 2
        canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(im, (nw, nh))
        anns = [a for a in coco['annotations']
                if a['image_id'] == img['id'] and a.get('num_keypoints', 1) > 0]
        for _ in range(frames_per_image):
            writer.write(canvas)
            for a in anns:
                x, y, bw, bh = a['bbox']
                boxes.append(dict(image_id=frame, bbox=[x * s + x0, y * s + y0, bw * s, bh * s],
                                  score=1., category_id=1))
            frame += 1
    writer.release()
    box_json = osp.join(folder, 'boxes.json')
    with open(box_json, 'w') as f:
        json.dump(boxes, f)
    return video, box_json, frame


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=osp.join(REPO, 'configs', 'cpn_r50_coco_256x192.py'))
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument('--frames', type=int, default=8, help='frames per sample image')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--backends', nargs='+', choices=list(BACKENDS),
                        default=['pytorch', 'openvino', 'openvino-int8'])
    parser.add_argument('--modes', nargs='+', choices=['2d', '3d'], default=['2d', '3d'])
    parser.add_argument('--lifter', default=None,
                        help='an MMPose PoseLifter config (default: MMPose\'s '
                        'video-pose-lift 243-frame cpn-ft config)')
    args = parser.parse_args(argv)
    import cv2
    import mmdet
    import mmpose
    import torch
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from cpn_mm.apis import (calibration_crops, export_onnx, init_model, quantize_onnx, run_demo,
                             run_demo_3d)
    lifter = args.lifter or osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'configs', 'body_3d_keypoint', 'video_pose_lift',
        'h36m', 'video-pose-lift_tcn-243frm-supv-cpn-ft_8xb128-200e_h36m.py')
    det_cfg = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'rtmdet',
                       'rtmdet_tiny_8xb32-300e_coco.py')
    rows = []
    with tempfile.TemporaryDirectory(prefix='cpn_video_') as tmp:
        video, box_json, frames = make_video(tmp, args.frames)
        int8 = None
        for name in args.backends:
            backend, precision = BACKENDS[name]
            onnx = None
            if precision == 'int8':
                if int8 is None:
                    model = init_model(args.config, args.checkpoint)
                    fp32 = export_onnx(model, osp.join(tmp, 'fp32.onnx'))
                    int8 = quantize_onnx(fp32, osp.join(tmp, 'int8.onnx'), calibration_crops(
                        model, osp.join(SAMPLE, 'test_coco.json')))['out']
                onnx = int8
            for mode, source in [(m, s) for m in args.modes for s in ('detector', 'boxes')]:
                kwargs = dict(det_config=det_cfg) if source == 'detector' else \
                    dict(bboxes=box_json)
                kwargs.update(out_dir=osp.join(tmp, name, mode, source), backend=backend,
                              precision=precision, onnx=onnx)
                if mode == '2d':
                    t = run_demo(args.config, args.checkpoint, video, **kwargs)['timing']
                    lift_s, draw_s = 0., t['total_s'] - t['detector_s'] - t['pose_s']
                else:
                    out = run_demo_3d(args.config, args.checkpoint, lifter, video, **kwargs)
                    t = dict(out['timing'], frames=out['frames'], persons=out['persons'])
                    t['fps'] = t['frames'] / t['total_s']
                    lift_s, draw_s = t['lift_s'], t['total_s'] - t['detector_s'] - \
                        t['pose_s'] - t['lift_s']
                runtime = out['runtime'] if mode == '3d' else name
                n = t['frames']
                rows.append(dict(mode=mode, backend=name, runtime=runtime, source=source,
                                 frames=n, persons=t['persons'] / n, fps=t['fps'],
                                 detector_ms=1e3 * t['detector_s'] / n,
                                 pose_ms=1e3 * t['pose_s'] / n, lift_ms=1e3 * lift_s / n,
                                 other_ms=1e3 * draw_s / n))
                print(json.dumps(rows[-1]), flush=True)
    print('\n| demo | pose backend | boxes from | frames | persons / frame | frames/s | detector '
          '| pose | lifting | drawing, tracking, writing |\n'
          '|---|---|---|---:|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        print(f'| {r["mode"]} | {r["backend"]} | {r["source"]} | {r["frames"]} | '
              f'{r["persons"]:.1f} | {r["fps"]:.2f} | {r["detector_ms"]:.0f} | '
              f'{r["pose_ms"]:.0f} | {r["lift_ms"]:.0f} | {r["other_ms"]:.0f} |')
    print('(times in ms per frame)')
    return rows


if __name__ == '__main__':
    main()
