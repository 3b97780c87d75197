# Copyright (c) cpn_mm authors. All rights reserved.
"""The top-down demo behind ``tools/demo.py``: images, folders or videos in; person boxes from a
detector, a box JSON or the whole frame; keypoints drawn with MMPose's ``PoseLocalVisualizer``
and written as COCO keypoint results."""
import json
import mimetypes
import os
import os.path as osp
import shutil
import time
import warnings
from types import SimpleNamespace
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from cpn_mm.runtime import build_runtime, compile_seconds, resolve_runtime, runtime_name
from cpn_mm.utils.errors import InputError, check_file
from .inference import (IMG_EXTENSIONS, boxes_from_detector, boxes_of_image, clip_boxes,
                        coco_results, image_id_of, init_model, keypoints_of, load_box_json)

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg', '.m4v')


# --------------------------------------------------------------------------- inputs
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
        raise InputError(f'`input` folder {folder!r} holds no image '
                         f'({", ".join(IMG_EXTENSIONS)})')
    return files


def read_image(path: str) -> np.ndarray:
    """BGR image (H, W, 3), uint8; an :class:`InputError` if it cannot be decoded."""
    import mmcv
    try:
        img = mmcv.imread(path, channel_order='bgr')
    except Exception as e:  # mmcv/OpenCV/Pillow errors on broken files
        raise InputError(f'cannot read image {path!r}: {e}') from e
    if img is None or img.size == 0:
        raise InputError(f'cannot read image {path!r}: not a decodable image file')
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img


def iter_video(path: str) -> Tuple[Iterator[np.ndarray], float, Tuple[int, int]]:
    """Frames (BGR) of a video, its fps and frame size (w, h); an :class:`InputError` if it
    cannot be opened or has no frame."""
    import cv2
    cap = cv2.VideoCapture(path)
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok or first is None:
        cap.release()
        raise InputError(f'cannot open video {path!r} (missing codec, broken or empty file)')
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


def detector_device(device: str, mmcv_cuda_version: Optional[str] = None) -> str:
    """The device to run an MMDetection detector on, given the pose model's ``device``.

    A detector's NMS/RoIAlign are mmcv ops; when mmcv was compiled without CUDA (the set-up
    does so on a GPU machine without a CUDA compiler) they take CPU tensors only, so the
    detector then runs on the CPU (with one warning) while the pose model stays on ``device``.

    Args:
        device (str): The pose model's device, e.g. ``'cuda:0'`` or ``'cpu'``
        mmcv_cuda_version (str, optional): mmcv's ``get_compiling_cuda_version()``; read from
            the installed mmcv when ``None``

    Returns:
        str: ``device``, or ``'cpu'`` where mmcv's ops cannot run on it.
    """
    if not device.startswith('cuda'):
        return device
    if mmcv_cuda_version is None:
        from mmcv.ops import get_compiling_cuda_version
        mmcv_cuda_version = get_compiling_cuda_version()
    if mmcv_cuda_version == 'not available':
        warnings.warn(f'mmcv was compiled without CUDA ops, so the detector runs on the CPU; '
                      f'the pose model runs on {device}. To run the detector on the GPU, '
                      'install a CUDA toolkit (nvcc) and run tools/setup_env.sh again.')
        return 'cpu'
    return device


class TopdownDemo:
    """The models and settings of :func:`run_demo`; :meth:`frame` processes one image.

    Args: see :func:`run_demo`.
    """

    def __init__(self, args: SimpleNamespace) -> None:
        for name in ('config', 'checkpoint', 'det_config', 'det_checkpoint'):
            check_file(getattr(args, name), name)
        if args.det_config and args.bboxes:
            raise InputError('give person boxes by `det_config` or by `bboxes`, not both')
        if args.det_checkpoint and not args.det_config:
            raise InputError('`det_checkpoint` needs `det_config`')
        # the runtime's rules (backend, precision, dtype, ONNX file), before any model loads
        choice = resolve_runtime(args.backend, args.precision, args.onnx, args.device,
                                 args.compile, args.dtype)
        from mmpose.registry import VISUALIZERS

        self.args = args
        self.json_boxes = load_box_json(args.bboxes, args.bbox_thr, 'bboxes') \
            if args.bboxes else None
        self.detector = None
        if args.det_config:
            try:
                from mmdet.apis import init_detector
            except ImportError as e:
                raise InputError('`det_config` needs MMDetection (mmdet>=3.0)') from e
            from mmpose.utils import adapt_mmdet_pipeline
            self.detector = init_detector(args.det_config, args.det_checkpoint,
                                          device=detector_device(args.device))
            self.detector.cfg = adapt_mmdet_pipeline(self.detector.cfg)
        self.model = init_model(args.config, args.checkpoint, device=args.device)
        self.runtime = build_runtime(self.model, choice.backend, choice.precision, args.onnx,
                                     args.out_dir, choice.compile)
        self.runtime_name = runtime_name(self.runtime)
        self.timing = dict(frames=0, persons=0, detector_s=0., pose_s=0.)
        self.visualizer = VISUALIZERS.build(
            dict(type='PoseLocalVisualizer', name=f'cpn_demo_{id(self)}', backend='matplotlib',
                 radius=args.radius, line_width=args.thickness))
        self.visualizer.set_dataset_meta(self.model.dataset_meta)

    def boxes(self, img: np.ndarray, path: str, image_id: int) -> np.ndarray:
        """Person boxes (N, 5) xyxy + score of one image, clipped to it."""
        h, w = img.shape[:2]
        if self.detector is not None:
            t0 = time.perf_counter()
            boxes = boxes_from_detector(self.detector, img, self.args.det_cat_id,
                                        self.args.bbox_thr, self.args.nms_thr)
            self.timing['detector_s'] += time.perf_counter() - t0
        elif self.json_boxes is not None:
            boxes = boxes_of_image(self.json_boxes, path, image_id)
        else:
            boxes = np.array([[0, 0, w, h, 1.]], dtype=np.float32)
        boxes, dropped = clip_boxes(boxes, w, h)
        if dropped:
            warnings.warn(f'{path}: dropped {dropped} box(es) without area inside the '
                          f'{w}x{h} image')
        return boxes

    def frame(self, img: np.ndarray, path: str, image_id: int) -> Tuple[Optional[np.ndarray],
                                                                         List[dict]]:
        """Drawn BGR image (``None`` when there is no box) and the COCO results of one image."""
        import mmcv
        from mmpose.apis import inference_topdown
        from mmpose.structures import merge_data_samples
        self.timing['frames'] += 1
        boxes = self.boxes(img, path, image_id)
        if len(boxes) == 0:
            return None, []
        # MMPose's top-down inference; a backend (ONNX Runtime, OpenVINO) stands in for the model
        t0 = time.perf_counter()
        samples = inference_topdown(self.runtime, img, boxes[:, :4])
        self.timing['pose_s'] += time.perf_counter() - t0
        self.timing['persons'] += len(boxes)
        keypoints, scores = keypoints_of(samples)
        result = merge_data_samples(samples)
        result.pred_instances.bbox_scores = boxes[:, 4]
        self.visualizer.add_datasample(
            'pred', mmcv.bgr2rgb(img), data_sample=result, draw_gt=False,
            draw_bbox=self.args.draw_bbox, kpt_thr=self.args.kpt_thr, show=False)
        drawn = mmcv.rgb2bgr(self.visualizer.get_image())
        return drawn, coco_results(image_id, boxes, keypoints, scores)


    def video(self, path: str, out_dir: str) -> Tuple[List[str], List[dict]]:
        """Draw every frame of a video into ``<out_dir>/<name>.mp4``; its COCO results."""
        import cv2
        frames, fps, size = iter_video(path)
        out_path = osp.join(out_dir, osp.splitext(osp.basename(path))[0] + '.mp4')
        writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
        if not writer.isOpened():
            raise InputError(f'cannot write video {out_path!r} (no mp4v encoder in OpenCV)')
        results = []
        try:
            for idx, frame in enumerate(frames):
                drawn, res = self.frame(frame, f'{path}#{idx}', idx)
                writer.write(frame if drawn is None else drawn)
                results.extend(res)
        finally:
            writer.release()
        return [out_path], results

    def images(self, path: str, out_dir: str) -> Tuple[List[str], List[dict]]:
        """Draw an image or a folder's images into ``out_dir`` (an image without a box
        unchanged); the written files and the COCO results."""
        import mmcv
        paths = list_images(path) if osp.isdir(path) else [path]
        outputs, results = [], []
        for idx, image_path in enumerate(paths):
            img = read_image(image_path)
            drawn, res = self.frame(img, image_path, image_id_of(image_path, idx))
            out_path = osp.join(out_dir, osp.basename(image_path))
            if drawn is None:  # no box: the image unchanged
                if osp.abspath(image_path) != osp.abspath(out_path):
                    shutil.copyfile(image_path, out_path)
            else:
                mmcv.imwrite(drawn, out_path)
            results.extend(res)
            outputs.append(out_path)
        return outputs, results


def run_demo(config: str, checkpoint: str, input: str, det_config: Optional[str] = None,
             det_checkpoint: Optional[str] = None, bboxes: Optional[str] = None,
             det_cat_id: int = 0, bbox_thr: float = 0.3, nms_thr: float = 0.3,
             out_dir: str = 'work_dirs/demo', pred_out: Optional[str] = None,
             device: str = 'cpu', dtype: Optional[str] = None, backend: str = 'auto',
             precision: Optional[str] = None, onnx: Optional[str] = None,
             compile: bool = False, kpt_thr: float = 0.3, radius: int = 3,
             thickness: int = 2, draw_bbox: bool = False) -> Dict[str, object]:
    """The top-down demo (``tools/demo.py``): person boxes -> keypoints -> pictures and a COCO
    keypoint results JSON. See ``tools/demo.py --help`` and ``docs/inference.md``.

    Args:
        config, checkpoint (str): The pose model
        input (str): An image, a folder of images or a video
        det_config, det_checkpoint (str, optional): An MMDetection person detector
        bboxes (str, optional): A COCO-style box JSON (:func:`load_box_json`) instead
        det_cat_id, bbox_thr, nms_thr: Detector class of persons, minimum box score, NMS IoU
        out_dir (str): Output folder; ``pred_out`` the results JSON (default
            ``<out_dir>/predictions.json``)
        device (str): Of the models
        dtype (str, optional): PyTorch's precision (``'float32'``, ``'bfloat16'``): the
            backend ``'pytorch'`` at that ``precision``
        backend (str): ``'auto'`` (the fastest installed path, see
            :func:`cpn_mm.runtime.resolve_runtime`), ``'pytorch'``, ``'onnxruntime'`` or
            ``'openvino'`` (with ``onnx``, the ONNX file; if ``None`` the model is exported to
            ``<out_dir>/<config name>.onnx``)
        precision (str, optional): ``'f32'``, ``'bf16'``, ``'int8'`` (a quantized ``onnx``),
            ``'default'`` (OpenVINO's own) or ``None`` (the backend's best)
        compile (bool): ``torch.compile`` the PyTorch model
        kpt_thr, radius, thickness, draw_bbox: Drawing

    Returns:
        dict: ``outputs`` (written pictures/videos), ``pred_out``, ``num_results``,
        ``runtime`` (the pose path that ran, e.g. ``'openvino (bf16, compiled for bf16)'``) and
        ``timing``: ``frames``, ``persons``, ``detector_s`` and ``pose_s`` (seconds in the
        detector and in ``inference_topdown``), ``total_s`` (reading, detection, pose,
        drawing and writing; models built before), ``fps`` (frames / ``total_s``) and
        ``compile_s`` (``torch.compile``'s first calls, part of ``pose_s``; 0 if not compiled).

    Raises:
        InputError: for a bad argument or input, naming the parameter (``tools/demo.py``
            shows its option instead).
    """
    args = SimpleNamespace(**locals())
    if not osp.exists(args.input):
        raise InputError(f'`input` {args.input!r} does not exist')
    os.makedirs(args.out_dir, exist_ok=True)
    demo = TopdownDemo(args)
    t_start = time.perf_counter()
    if osp.isfile(args.input) and is_video(args.input):
        outputs, results = demo.video(args.input, args.out_dir)
    else:
        outputs, results = demo.images(args.input, args.out_dir)
    pred_out = args.pred_out or osp.join(args.out_dir, 'predictions.json')
    os.makedirs(osp.dirname(osp.abspath(pred_out)), exist_ok=True)
    timing = dict(demo.timing, total_s=time.perf_counter() - t_start,
                  compile_s=compile_seconds(demo.runtime))
    with open(pred_out, 'w') as f:
        json.dump(results, f)
    timing['fps'] = timing['frames'] / timing['total_s'] if timing['total_s'] else 0.
    return dict(outputs=outputs, pred_out=pred_out, num_results=len(results),
                runtime=demo.runtime_name, timing=timing)
