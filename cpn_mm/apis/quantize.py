# Copyright (c) cpn_mm authors. All rights reserved.
"""int8 post-training quantization of the ONNX export, calibrated on the user's crops.

ONNX Runtime's static quantization (``onnxruntime.quantization.quantize_static``) writes the
float32 export (:func:`cpn_mm.apis.export_onnx`) again with QuantizeLinear/DequantizeLinear
pairs (QDQ format): weights int8 symmetric per output channel, activations uint8 with ranges
from the calibration crops (min/max). The one file runs in both runtimes:
:class:`cpn_mm.apis.OnnxRuntimeBackend` and :class:`cpn_mm.apis.OpenVINOBackend` with
``precision='int8'`` (which fuses the pairs into int8 convolutions).

Calibration crops are person crops through the model's own test pipeline and data
preprocessor (:func:`calibration_crops`), each with its horizontal flip, because the flip test
runs the flipped crops through the same graph.
"""
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor, nn

from .deploy import HeatmapModule, require_onnx
from .inference import IMG_EXTENSIONS, InputError, coco_gt_boxes, prepare_crops

CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')


def calibration_crops(model: nn.Module, source: str, num: Optional[int] = None,
                      name: str = 'calibration') -> Tensor:
    """Preprocessed crops (N, 3, h, w) for calibration from ``source``.

    Args:
        model (nn.Module): The model (its test pipeline and data preprocessor)
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


class _Reader:
    """``onnxruntime.quantization.CalibrationDataReader`` over crops, one batch at a time."""

    def __init__(self, crops: np.ndarray, batch_size: int = 8) -> None:
        self.batches = [crops[i:i + batch_size] for i in range(0, len(crops), batch_size)]
        self.index = 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self.index >= len(self.batches):
            return None
        self.index += 1
        return {'input': self.batches[self.index - 1]}

    def rewind(self) -> None:
        self.index = 0


def quantize_onnx(onnx_file: str, out: str, crops: Tensor, method: str = 'minmax',
                  with_flip: bool = True) -> Dict[str, object]:
    """Quantize a float32 export to int8 (QDQ) calibrated on ``crops``.

    Args:
        onnx_file (str): The float32 file of :func:`cpn_mm.apis.export_onnx`
        out (str): The int8 file to write
        crops (Tensor): Preprocessed calibration crops (N, 3, h, w) (:func:`calibration_crops`)
        method (str): Calibration: ``'minmax'`` (ranges = extremes seen), ``'entropy'`` or
            ``'percentile'`` (ONNX Runtime's)
        with_flip (bool): Calibrate on each crop and its horizontal flip

    Returns:
        dict: ``out``, ``num_crops`` (calibration crops, flips not counted), ``method``.
    """
    require_onnx()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if method not in CALIBRATION_METHODS:
        raise InputError(f'`method` must be one of {list(CALIBRATION_METHODS)}, got {method!r}')
    if crops.ndim != 4 or crops.shape[0] == 0:
        raise InputError(f'`crops` must be (N, 3, h, w) with N >= 1, got {tuple(crops.shape)}')
    data = crops.detach().to('cpu', torch.float32)
    if with_flip:
        data = torch.cat([data, data.flip(-1)])
    calib = getattr(CalibrationMethod, {'minmax': 'MinMax', 'entropy': 'Entropy',
                                        'percentile': 'Percentile'}[method])
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = osp.join(tmp, 'prepared.onnx')
        quant_pre_process(onnx_file, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared, out, _Reader(data.contiguous().numpy()), quant_format=QuantFormat.QDQ,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=calib, extra_options=dict(CalibTensorRangeSymmetric=False))
    return dict(out=out, num_crops=int(crops.shape[0]), method=method)


def keypoint_agreement(model: nn.Module, backend, crops: Tensor) -> Dict[str, float]:
    """How far a backend's decoded keypoints are from PyTorch float32's on ``crops``.

    Both heatmaps (no flip test) are decoded by the model's codec (``batch_decode``);
    distances are in crop pixels (the codec's input size).

    Returns:
        dict: ``num_crops``, ``median_px``, ``max_px``, ``within_1px`` (share of keypoints),
        ``max_score_diff``.
    """
    with torch.no_grad():
        ref = HeatmapModule(model).eval()(crops.float()).float().cpu().numpy()
    got = backend.heatmaps(crops).float().numpy()
    codec = model.head.decoder
    k_ref, s_ref = codec.batch_decode(ref)
    k_got, s_got = codec.batch_decode(got)
    d = np.linalg.norm(k_got - k_ref, axis=-1)
    return dict(num_crops=int(crops.shape[0]), median_px=float(np.median(d)),
                max_px=float(d.max()), within_1px=float((d <= 1).mean()),
                max_score_diff=float(np.abs(s_got - s_ref).max()))


__all__: List[str] = ['calibration_crops', 'quantize_onnx', 'keypoint_agreement',
                      'CALIBRATION_METHODS']
