# Copyright (c) cpn_mm authors. All rights reserved.
"""Top-down CPN demo: person boxes -> CPN keypoints -> drawn pictures and a COCO results JSON.

    .venv/bin/python tools/demo.py CONFIG CHECKPOINT --input IMAGE|FOLDER|VIDEO
        [--det-config DET_CONFIG [--det-checkpoint DET_CKPT] | --bboxes BOX_JSON]
        [--out-dir DIR] [--device cpu|cuda:0] [--kpt-thr 0.3]

Person boxes come from one of three sources:

- an MMDetection detector (``--det-config``, optional ``--det-checkpoint``; run with
  ``mmdet.apis.init_detector`` / ``inference_detector``; boxes of ``--det-cat-id`` above
  ``--bbox-thr``, then NMS with ``--nms-thr``). Without a checkpoint the detector has random
  weights (no backbone weights are downloaded), which is only useful for smoke tests;
- a COCO-style box JSON (``--bboxes``): a list of ``{"image_id" or "file_name", "bbox": [x, y, w,
  h], "score", "category_id"}`` in input-image pixels, e.g. a COCO detection results file. Only
  ``category_id`` 1 (person; entries without one are kept) with ``score >= --bbox-thr`` are used.
  An entry matches an image by ``file_name`` (the image's base name) or by ``image_id`` (the
  image's id, see below);
- otherwise the whole frame is one box (score 1).

Boxes are clipped to the image (``[0, width] x [0, height]``); boxes left with no area after
clipping are dropped with a warning. All boxes of one image go through CPN in one batch
(``mmpose.apis.inference_topdown``).

Outputs under ``--out-dir``: the pictures drawn with MMPose's ``PoseLocalVisualizer`` (skeleton and
keypoints whose score is above ``--kpt-thr``) with the input's file name (a video: ``<name>.mp4``,
one drawn frame per input frame), and ``--pred-out`` (default ``<out-dir>/predictions.json``), a
COCO keypoint results list: ``{"image_id", "category_id": 1, "keypoints": [x, y, score] * K,
"score": box score x mean keypoint score, "bbox": [x, y, w, h]}``. Image ids: the number in a
COCO-style file name (``000000000785.jpg`` -> 785), otherwise the 0-based index of the image in
the sorted input; the frame index for a video. An image without any box is written unchanged (a
copy of the file) and has no results.
"""
import argparse
import json
import mimetypes
import os
import os.path as osp
import shutil
import sys
import warnings
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg', '.m4v')


class DemoError(Exception):
    """A user error (bad argument or input), reported without a traceback."""


# --------------------------------------------------------------------------- arguments
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file (e.g. configs/cpn_r50_coco_256x192.py)')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument(
        '--input', required=True, help='an image, a folder of images or a video file')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--det-config', help='MMDetection config of the person detector')
    boxes.add_argument(
        '--bboxes',
        help='COCO-style box JSON: [{"image_id" | "file_name", "bbox": [x, y, w, h], "score", '
        '"category_id"}, ...]; boxes are clipped to the image, boxes without area after '
        'clipping are dropped')
    parser.add_argument(
        '--det-checkpoint',
        default=None,
        help='checkpoint of the detector (with --det-config); random weights if omitted')
    parser.add_argument(
        '--det-cat-id', type=int, default=0, help='detector class id of persons (COCO: 0)')
    parser.add_argument(
        '--bbox-thr', type=float, default=0.3, help='minimum box score (detector or --bboxes)')
    parser.add_argument(
        '--nms-thr', type=float, default=0.3, help='IoU threshold of the detector boxes\' NMS')
    parser.add_argument('--out-dir', default='work_dirs/demo', help='output folder')
    parser.add_argument(
        '--pred-out', default=None, help='results JSON (default <out-dir>/predictions.json)')
    parser.add_argument('--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--kpt-thr', type=float, default=0.3, help='draw keypoints with a score above this')
    parser.add_argument('--radius', type=int, default=3, help='keypoint radius (pixels)')
    parser.add_argument('--thickness', type=int, default=2, help='skeleton line width (pixels)')
    parser.add_argument('--draw-bbox', action='store_true', help='also draw the boxes')
    args = parser.parse_args(argv)
    if args.det_checkpoint is not None and args.det_config is None:
        parser.error('--det-checkpoint needs --det-config')
    return args


def check_file(name: str, path: Optional[str]) -> None:
    """Raise a :class:`DemoError` naming the argument unless ``path`` is an existing file."""
    if path is not None and not osp.isfile(path):
        raise DemoError(f'{name} {path!r} does not exist or is not a file')


# --------------------------------------------------------------------------- inputs
def image_id_of(path: str, index: int) -> int:
    """COCO id from a COCO-style file name (``000000000785.jpg`` -> 785), else ``index``."""
    stem = osp.splitext(osp.basename(path))[0]
    return int(stem) if stem.isdigit() else index


def is_video(path: str) -> bool:
    if osp.splitext(path)[1].lower() in VIDEO_EXTENSIONS:
        return True
    mime = mimetypes.guess_type(path)[0]
    return mime is not None and mime.startswith('video')


def list_images(folder: str) -> List[str]:
    files = sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if osp.splitext(f)[1].lower() in IMG_EXTENSIONS)
    if not files:
        raise DemoError(f'--input folder {folder!r} holds no image ({", ".join(IMG_EXTENSIONS)})')
    return files


def read_image(path: str) -> np.ndarray:
    """BGR image (H, W, 3), uint8; a :class:`DemoError` if it cannot be decoded."""
    import mmcv
    try:
        img = mmcv.imread(path, channel_order='bgr')
    except Exception as e:  # mmcv/OpenCV/Pillow errors on broken files
        raise DemoError(f'cannot read image {path!r}: {e}') from e
    if img is None or img.size == 0:
        raise DemoError(f'cannot read image {path!r}: not a decodable image file')
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img


def iter_video(path: str) -> Tuple[Iterator[np.ndarray], float, Tuple[int, int]]:
    """Frames (BGR) of a video, its fps and frame size (w, h); a :class:`DemoError` if it
    cannot be opened or has no frame."""
    import cv2
    cap = cv2.VideoCapture(path)
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok or first is None:
        cap.release()
        raise DemoError(f'cannot open video {path!r} (missing codec, broken or empty file)')
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.
    size = (first.shape[1], first.shape[0])

    def frames() -> Iterator[np.ndarray]:
        yield first
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield frame
        finally:
            cap.release()

    return frames(), fps, size


# --------------------------------------------------------------------------- boxes
def load_box_json(path: str, bbox_thr: float) -> List[dict]:
    """Validated person boxes of a COCO-style box JSON, ``score >= bbox_thr``."""
    check_file('--bboxes', path)
    try:
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        raise DemoError(f'--bboxes {path!r} is not a readable JSON file: {e}') from e
    if not isinstance(entries, list):
        raise DemoError(f'--bboxes {path!r} must hold a list of boxes, got {type(entries).__name__}')
    boxes = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or ('image_id' not in e and 'file_name' not in e):
            raise DemoError(f'--bboxes entry {i} must be a dict with "image_id" or "file_name"')
        bbox = e.get('bbox')
        if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in bbox)):
            raise DemoError(f'--bboxes entry {i}: "bbox" must be 4 finite numbers [x, y, w, h], '
                            f'got {bbox!r}')
        if e.get('category_id', 1) != 1:
            continue
        score = float(e.get('score', 1.))
        if score < bbox_thr:
            continue
        boxes.append(dict(image_id=e.get('image_id'), file_name=e.get('file_name'),
                          bbox=[float(v) for v in bbox], score=score))
    return boxes


def boxes_from_json(boxes: List[dict], path: str, image_id: int) -> np.ndarray:
    """The JSON boxes of one image as (N, 5) [x1, y1, x2, y2, score] (input-image pixels)."""
    name = osp.basename(path)
    rows = [b['bbox'] + [b['score']] for b in boxes
            if b['file_name'] == name or (b['file_name'] is None and b['image_id'] == image_id)]
    out = np.array(rows, dtype=np.float32).reshape(-1, 5)
    out[:, 2:4] += out[:, :2]  # xywh -> xyxy
    return out


def boxes_from_detector(detector, img: np.ndarray, cat_id: int, bbox_thr: float,
                        nms_thr: float) -> np.ndarray:
    """Person boxes (N, 5) [x1, y1, x2, y2, score] of an mmdet detector, as MMPose's
    ``topdown_demo_with_mmdet.py``: class ``cat_id``, score above ``bbox_thr``, then NMS."""
    from mmdet.apis import inference_detector
    from mmpose.evaluation.functional import nms
    pred = inference_detector(detector, img).pred_instances.cpu().numpy()
    boxes = np.concatenate([pred.bboxes, pred.scores[:, None]], axis=1).astype(np.float32)
    boxes = boxes[(pred.labels == cat_id) & (pred.scores > bbox_thr)]
    return boxes[nms(boxes, nms_thr)] if len(boxes) else boxes.reshape(0, 5)


def clip_boxes(boxes: np.ndarray, width: int, height: int, where: str) -> np.ndarray:
    """Clip (N, 5) xyxy boxes to the image; drop (with a warning) those left without area."""
    boxes = boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    if not keep.all():
        warnings.warn(f'{where}: dropped {int((~keep).sum())} box(es) without area inside the '
                      f'{width}x{height} image')
    return boxes[keep]


# --------------------------------------------------------------------------- pose
def predict(model, img: np.ndarray, boxes: np.ndarray):
    """CPN keypoints for all ``boxes`` (N, 5) of one BGR image in one batch.

    Returns:
        tuple: the merged ``PoseDataSample`` and ``keypoints`` (N, K, 2) and ``scores`` (N, K)
        in input-image pixels.
    """
    from mmpose.apis import inference_topdown
    from mmpose.structures import merge_data_samples
    samples = inference_topdown(model, img, boxes[:, :4], bbox_format='xyxy')
    result = merge_data_samples(samples)
    result.pred_instances.bbox_scores = boxes[:, 4]
    return result, result.pred_instances.keypoints, result.pred_instances.keypoint_scores


def coco_results(image_id: int, boxes: np.ndarray, keypoints: np.ndarray,
                 scores: np.ndarray) -> List[dict]:
    """COCO keypoint results; score = box score x mean keypoint score (CPN's scoring)."""
    out = []
    for box, kpts, s in zip(boxes, keypoints, scores):
        flat = np.concatenate([kpts, s[:, None]], axis=1).reshape(-1)
        out.append(dict(
            image_id=int(image_id),
            category_id=1,
            keypoints=[round(float(v), 3) for v in flat],
            score=float(box[4] * s.mean()),
            bbox=[round(float(v), 2) for v in (box[0], box[1], box[2] - box[0], box[3] - box[1])]))
    return out


class Demo:
    """The models and settings; :meth:`frame` processes one image."""

    def __init__(self, args: argparse.Namespace) -> None:
        for name in ('config', 'checkpoint', 'det_config', 'det_checkpoint'):
            check_file(name if '_' not in name else '--' + name.replace('_', '-'),
                       getattr(args, name))
        import cpn_mm  # noqa: F401  (registers CPN's modules)
        from mmpose.apis import init_model
        from mmpose.registry import VISUALIZERS

        self.args = args
        self.json_boxes = load_box_json(args.bboxes, args.bbox_thr) if args.bboxes else None
        self.detector = None
        if args.det_config:
            try:
                from mmdet.apis import init_detector
            except ImportError as e:
                raise DemoError('--det-config needs MMDetection (mmdet>=3.0)') from e
            from mmpose.utils import adapt_mmdet_pipeline
            self.detector = init_detector(args.det_config, args.det_checkpoint,
                                          device=args.device)
            self.detector.cfg = adapt_mmdet_pipeline(self.detector.cfg)
        self.model = init_model(args.config, args.checkpoint, device=args.device)
        self.visualizer = VISUALIZERS.build(
            dict(type='PoseLocalVisualizer', name=f'cpn_demo_{id(self)}', backend='matplotlib',
                 radius=args.radius, line_width=args.thickness))
        self.visualizer.set_dataset_meta(self.model.dataset_meta)

    def boxes(self, img: np.ndarray, path: str, image_id: int) -> np.ndarray:
        h, w = img.shape[:2]
        if self.detector is not None:
            boxes = boxes_from_detector(self.detector, img, self.args.det_cat_id,
                                        self.args.bbox_thr, self.args.nms_thr)
        elif self.json_boxes is not None:
            boxes = boxes_from_json(self.json_boxes, path, image_id)
        else:
            boxes = np.array([[0, 0, w, h, 1.]], dtype=np.float32)
        return clip_boxes(boxes, w, h, path)

    def frame(self, img: np.ndarray, path: str, image_id: int) -> Tuple[Optional[np.ndarray],
                                                                         List[dict]]:
        """Drawn BGR image (``None`` when there is no box) and the COCO results of one image."""
        import mmcv
        boxes = self.boxes(img, path, image_id)
        if len(boxes) == 0:
            return None, []
        result, keypoints, scores = predict(self.model, img, boxes)
        self.visualizer.add_datasample(
            'pred', mmcv.bgr2rgb(img), data_sample=result, draw_gt=False,
            draw_bbox=self.args.draw_bbox, kpt_thr=self.args.kpt_thr, show=False)
        drawn = mmcv.rgb2bgr(self.visualizer.get_image())
        return drawn, coco_results(image_id, boxes, keypoints, scores)


def run(args: argparse.Namespace) -> Dict[str, object]:
    """Run the demo; returns ``{'outputs': [paths], 'pred_out': path, 'num_results': n}``."""
    import mmcv
    if not osp.exists(args.input):
        raise DemoError(f'--input {args.input!r} does not exist')
    video = osp.isfile(args.input) and is_video(args.input)
    demo = Demo(args)
    os.makedirs(args.out_dir, exist_ok=True)
    pred_out = args.pred_out or osp.join(args.out_dir, 'predictions.json')
    results, outputs = [], []
    if video:
        import cv2
        frames, fps, size = iter_video(args.input)
        out_path = osp.join(args.out_dir, osp.splitext(osp.basename(args.input))[0] + '.mp4')
        writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
        if not writer.isOpened():
            raise DemoError(f'cannot write video {out_path!r} (no mp4v encoder in OpenCV)')
        try:
            for idx, frame in enumerate(frames):
                drawn, res = demo.frame(frame, f'{args.input}#{idx}', idx)
                writer.write(frame if drawn is None else drawn)
                results.extend(res)
        finally:
            writer.release()
        outputs.append(out_path)
    else:
        paths = list_images(args.input) if osp.isdir(args.input) else [args.input]
        for idx, path in enumerate(paths):
            img = read_image(path)
            drawn, res = demo.frame(img, path, image_id_of(path, idx))
            out_path = osp.join(args.out_dir, osp.basename(path))
            if drawn is None:  # no box: the image unchanged
                if osp.abspath(path) != osp.abspath(out_path):
                    shutil.copyfile(path, out_path)
            else:
                mmcv.imwrite(drawn, out_path)
            results.extend(res)
            outputs.append(out_path)
    os.makedirs(osp.dirname(osp.abspath(pred_out)), exist_ok=True)
    with open(pred_out, 'w') as f:
        json.dump(results, f)
    return dict(outputs=outputs, pred_out=pred_out, num_results=len(results))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        summary = run(args)
    except DemoError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f'{len(summary["outputs"])} picture(s)/video(s) in {args.out_dir}; '
          f'{summary["num_results"]} person(s) in {summary["pred_out"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
