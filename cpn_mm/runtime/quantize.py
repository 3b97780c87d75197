# Copyright (c) cpn_mm authors. All rights reserved.
"""int8 post-training quantization of the ONNX export, calibrated on the user's crops.

ONNX Runtime's static quantization (``onnxruntime.quantization.quantize_static``) writes the
float32 export (:func:`cpn_mm.runtime.export_onnx`) again with QuantizeLinear/DequantizeLinear
pairs (QDQ format): weights int8 symmetric per output channel, activations uint8 with ranges
from the calibration crops (min/max). The one file runs in both runtimes:
:class:`cpn_mm.runtime.OnnxRuntimeBackend` and :class:`cpn_mm.runtime.OpenVINOBackend` with
``precision='int8'`` (which fuses the pairs into int8 convolutions).

Calibration crops are person crops through the model's own test pipeline and data
preprocessor (:func:`cpn_mm.apis.calibration_crops`), each with its horizontal flip here,
because the flip test runs the flipped crops through the same graph.
"""
import os
import os.path as osp
import tempfile
from typing import Dict, List

import torch
from torch import Tensor

from cpn_mm.utils.errors import InputError
from .export import check_onnx_file
from .requirements import require_onnx

CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')


def quantize_onnx(onnx_file: str, out: str, crops: Tensor, method: str = 'minmax',
                  with_flip: bool = True) -> Dict[str, object]:
    """Quantize a float32 export to int8 (QDQ) calibrated on ``crops``.

    Args:
        onnx_file (str): The float32 file of :func:`cpn_mm.runtime.export_onnx`
        out (str): The int8 file to write
        crops (Tensor): Preprocessed calibration crops (N, 3, h, w)
            (:func:`cpn_mm.apis.calibration_crops`)
        method (str): Calibration: ``'minmax'`` (ranges = extremes seen), ``'entropy'`` or
            ``'percentile'`` (ONNX Runtime's)
        with_flip (bool): Calibrate on each crop and its horizontal flip

    Returns:
        dict: ``out``, ``num_crops`` (calibration crops, flips not counted), ``method``.
    """
    require_onnx()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .calibration_reader import CropReader
    if method not in CALIBRATION_METHODS:
        raise InputError(f'`method` must be one of {list(CALIBRATION_METHODS)}, got {method!r}')
    if crops.ndim != 4 or crops.shape[0] == 0:
        raise InputError(f'`crops` must be (N, 3, h, w) with N >= 1, got {tuple(crops.shape)}')
    if check_onnx_file(onnx_file).quantized:
        raise InputError(f'`onnx_file` {onnx_file!r} is quantized already: give the float32 '
                         'export (tools/export_onnx.py)')
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
            prepared, out, CropReader(data.contiguous().numpy()), quant_format=QuantFormat.QDQ,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=calib, extra_options=dict(CalibTensorRangeSymmetric=False))
    return dict(out=out, num_crops=int(crops.shape[0]), method=method)


__all__: List[str] = ['quantize_onnx', 'CALIBRATION_METHODS']
