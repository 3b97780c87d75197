# Copyright (c) cpn_mm authors. All rights reserved.
"""Building a model, person boxes and crops, shared by the tools. Inference itself is
MMPose's ``mmpose.apis.inference_topdown`` (all boxes of an image in one ``test_step``), with
a model from :func:`init_model` or what :func:`cpn_mm.runtime.build_runtime` returns.

Coordinates: boxes are ``[x1, y1, x2, y2]`` (xyxy) in input-image pixels unless a name says
``xywh``; keypoints are ``[x, y]`` in input-image pixels; crops are the model's input size
``(h, w)`` from its codec.
"""
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from cpn_mm.models import set_inference_dtype
from cpn_mm.utils.errors import InputError, check_file

ImageLike = Union[str, np.ndarray]
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


# --------------------------------------------------------------------------- model
def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               dtype: Union[None, str, torch.dtype] = None,
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """A pose model from a config (path or ``Config``) and a checkpoint, cpn_mm registered.

    ``mmpose.apis.init_model`` (test mode, ``dataset_meta`` from the checkpoint or config).
    Nothing is downloaded: the backbone's pretrained ``init_cfg`` is cleared (the checkpoint
    holds all weights; without a checkpoint the weights are random).

    Args:
        config (str | Config): Config file or object
        checkpoint (str, optional): Checkpoint (.pth); ``None`` for random weights
        device (str): ``'cpu'`` or ``'cuda:0'``...
        dtype (str | torch.dtype, optional): Inference precision, written to
            ``model.test_cfg['dtype']`` (``'float32'`` or ``'bfloat16'``; needs a
            :class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`). ``None`` keeps the
            config's.
        cfg_options (dict, optional): Overrides merged into the config

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` and ``dataset_meta``.
    """
    from mmengine.config import Config
    from mmpose.apis import init_model as mmpose_init_model

    import cpn_mm  # noqa: F401  (registers CPN's modules)

    if isinstance(config, str):
        check_file(config, 'config')
        config = Config.fromfile(config)
    else:
        config = copy.deepcopy(config)
    check_file(checkpoint, 'checkpoint')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if config.model.get('backbone', {}).get('init_cfg') is not None:
        config.model.backbone.init_cfg = None
    model = mmpose_init_model(config, checkpoint, device=device)
    if dtype is not None:
        set_inference_dtype(model, dtype)
    return model


# --------------------------------------------------------------------------- boxes
def image_id_of(path: str, index: int) -> int:
    """COCO id from a COCO-style file name (``000000000785.jpg`` -> 785), else ``index``."""
    stem = osp.splitext(osp.basename(path))[0]
    return int(stem) if stem.isdigit() else index


def coco_gt_boxes(ann_file: str, name: str = 'ann_file') -> Dict[str, np.ndarray]:
    """Ground-truth person boxes of a COCO keypoint file, per image.

    Only annotations with at least one labelled keypoint (``num_keypoints > 0``) count, as in
    MMPose's ``CocoDataset`` for training/validation with ground-truth boxes.

    Returns:
        dict: image path (``file_name`` next to ``ann_file``) -> boxes (N, 4) float32, xyxy in
        image pixels; images without a person box are left out, the order is the file's.
    """
    check_file(ann_file, name)
    try:
        with open(ann_file) as f:
            coco = json.load(f)
        images, anns = coco['images'], coco['annotations']
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f'`{name}` {ann_file!r} is not a COCO annotation file: {e}') from e
    out = {}
    for img in images:
        boxes = np.array([a['bbox'] for a in anns
                          if a['image_id'] == img['id'] and a.get('num_keypoints', 1) > 0],
                         dtype=np.float32).reshape(-1, 4)
        if len(boxes):
            boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
            out[osp.join(osp.dirname(ann_file), img['file_name'])] = boxes
    return out


def load_box_json(path: str, bbox_thr: float = 0., name: str = 'path') -> List[dict]:
    """Person boxes of a COCO-style box JSON with ``score >= bbox_thr``.

    The file holds a list of ``{"image_id" or "file_name", "bbox": [x, y, w, h], "score",
    "category_id"}`` in image pixels (e.g. a COCO detection results file); only
    ``category_id`` 1 (person; entries without one are kept) is used.

    Returns:
        list[dict]: ``image_id``, ``file_name`` (either may be ``None``), ``bbox`` [x, y, w, h]
        and ``score``.
    """
    check_file(path, name)
    try:
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f'`{name}` {path!r} is not a readable JSON file: {e}') from e
    if not isinstance(entries, list):
        raise InputError(f'`{name}` {path!r} must hold a list of boxes, got '
                         f'{type(entries).__name__}')
    boxes = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or ('image_id' not in e and 'file_name' not in e):
            raise InputError(f'`{name}` entry {i} must be a dict with "image_id" or "file_name"')
        bbox = e.get('bbox')
        if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in bbox)):
            raise InputError(f'`{name}` entry {i}: "bbox" must be 4 finite numbers [x, y, w, h], '
                             f'got {bbox!r}')
        if e.get('category_id', 1) != 1:
            continue
        score = float(e.get('score', 1.))
        if score < bbox_thr:
            continue
        boxes.append(dict(image_id=e.get('image_id'), file_name=e.get('file_name'),
                          bbox=[float(v) for v in bbox], score=score))
    return boxes


def boxes_of_image(boxes: List[dict], path: str, image_id: int) -> np.ndarray:
    """The :func:`load_box_json` boxes of one image, matched by ``file_name`` (the image's
    base name) or by ``image_id``, as (N, 5) ``[x1, y1, x2, y2, score]``."""
    name = osp.basename(path)
    rows = [b['bbox'] + [b['score']] for b in boxes
            if b['file_name'] == name or (b['file_name'] is None and b['image_id'] == image_id)]
    out = np.array(rows, dtype=np.float32).reshape(-1, 5)
    out[:, 2:4] += out[:, :2]  # xywh -> xyxy
    return out


def boxes_from_detector(detector, img: np.ndarray, cat_id: int = 0, bbox_thr: float = 0.3,
                        nms_thr: float = 0.3) -> np.ndarray:
    """Person boxes (N, 5) ``[x1, y1, x2, y2, score]`` of an mmdet detector on a BGR image, as
    MMPose's ``topdown_demo_with_mmdet.py``: class ``cat_id``, score above ``bbox_thr``, NMS."""
    from mmdet.apis import inference_detector
    from mmpose.evaluation.functional import nms
    pred = inference_detector(detector, img).pred_instances.cpu().numpy()
    boxes = np.concatenate([pred.bboxes, pred.scores[:, None]], axis=1).astype(np.float32)
    boxes = boxes[(pred.labels == cat_id) & (pred.scores > bbox_thr)]
    return boxes[nms(boxes, nms_thr)] if len(boxes) else boxes.reshape(0, 5)


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> Tuple[np.ndarray, int]:
    """Clip (N, 4+) xyxy boxes to ``[0, width] x [0, height]`` and drop those left with less
    than one pixel of width or height.

    Returns:
        tuple: the kept boxes and the number dropped.
    """
    boxes = np.array(boxes, dtype=np.float32, copy=True)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    return boxes[keep], int((~keep).sum())


# --------------------------------------------------------------------------- crops
def prepare_crops(model, img: ImageLike, bboxes: np.ndarray) -> Tuple[torch.Tensor, np.ndarray]:
    """Crops of ``bboxes`` through the model's test pipeline and data preprocessor, without
    running the model (inference itself is ``mmpose.apis.inference_topdown``, which builds the
    same batch).

    Args:
        model: A top-down pose model with ``cfg`` and ``dataset_meta`` (:func:`init_model`)
        img (str | np.ndarray): Image path or BGR image (H, W, 3) uint8
        bboxes (np.ndarray): Boxes (N, 4) xyxy in image pixels, N >= 1

    Returns:
        tuple: ``inputs`` (N, 3, h, w) float32, normalised RGB as the backbone sees them, and
        ``crops`` (N, h, w, 3) uint8 RGB, the same crops before normalisation.
    """
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    if len(bboxes) == 0:
        raise InputError('`bboxes`: expected at least one box (N, 4) [x1, y1, x2, y2]')
    init_default_scope(model.cfg.get('default_scope', 'mmpose'))
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = []
    for box in bboxes:
        info = dict(img_path=img) if isinstance(img, str) else dict(img=img)
        info.update(bbox=box[None], bbox_score=np.ones(1, dtype=np.float32))
        info.update(model.dataset_meta)
        data.append(pipeline(info))
    batch = pseudo_collate(data)
    crops = np.stack([x.numpy().transpose(1, 2, 0)[..., ::-1] for x in batch['inputs']])
    inputs = model.data_preprocessor(batch, False)['inputs']
    return inputs, np.ascontiguousarray(crops)


def calibration_crops(model, source: str, num: Optional[int] = None,
                      name: str = 'calibration') -> torch.Tensor:
    """Preprocessed person crops (N, 3, h, w) from ``source``: the one way crops are gathered
    for int8 calibration (:func:`cpn_mm.runtime.quantize_onnx`), the export's parity check
    and the accuracy reports.

    Args:
        model: The model (its test pipeline and data preprocessor)
        source (str): A COCO keypoint annotation file (every person box with a labelled
            keypoint, images next to the file) or a folder of images (each image is one
            person crop: its whole frame is the box)
        num (int, optional): Use the first ``num`` crops only; ``None``: all
        name (str): The parameter the errors name

    Raises:
        InputError: if ``source`` is neither, holds no person box or image, or ``num`` < 1.
    """
    if num is not None and num < 1:
        raise InputError(f'`num` must be at least 1, got {num}')
    if osp.isdir(source):
        files = sorted(f for f in os.listdir(source)
                       if osp.splitext(f)[1].lower() in IMG_EXTENSIONS)
        if not files:
            raise InputError(f'`{name}` folder {source!r} holds no image '
                             f'({", ".join(IMG_EXTENSIONS)})')
        crops = []
        for f in files[:num]:
            import mmcv
            img = mmcv.imread(osp.join(source, f))
            if img is None:
                raise InputError(f'`{name}`: cannot read image {osp.join(source, f)!r}')
            h, w = img.shape[:2]
            crops.append(prepare_crops(model, img, np.array([[0, 0, w, h]], np.float32))[0])
        return torch.cat(crops)
    if not osp.isfile(source):
        raise InputError(f'`{name}` {source!r} is neither a COCO annotation file nor a folder '
                         'of images')
    boxes = coco_gt_boxes(source, name)
    if not boxes:
        raise InputError(f'`{name}` {source!r} has no person box with a labelled keypoint')
    crops = torch.cat([prepare_crops(model, path, b)[0] for path, b in boxes.items()])
    return crops[:num]


def sample_crops(model, ann_file: str, name: str = 'ann_file') -> torch.Tensor:
    """Preprocessed crops (N, 3, h, w) of every labelled person box of a COCO file
    (:func:`calibration_crops` of a COCO file; ``name``: the parameter its errors name)."""
    return calibration_crops(model, ann_file, None, name)


def coco_results(image_id: int, boxes: np.ndarray, keypoints: np.ndarray,
                 scores: np.ndarray) -> List[dict]:
    """COCO keypoint results of one image.

    Args:
        image_id (int): The image's id
        boxes (np.ndarray): (N, 5) xyxy + box score
        keypoints (np.ndarray): (N, K, 2) in image pixels
        scores (np.ndarray): (N, K) keypoint scores

    Returns:
        list[dict]: ``image_id``, ``category_id`` 1, ``keypoints`` [x, y, score] x K,
        ``score`` = box score x mean keypoint score (CPN's scoring), ``bbox`` [x, y, w, h].
    """
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


def keypoints_of(samples: Sequence) -> Tuple[np.ndarray, np.ndarray]:
    """``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K) of one-instance data samples."""
    kpts = np.concatenate([np.asarray(s.pred_instances.keypoints) for s in samples])
    scores = np.concatenate([np.asarray(s.pred_instances.keypoint_scores) for s in samples])
    return kpts, scores
