# Copyright (c) cpn_mm authors. All rights reserved.
"""How far a backend is from PyTorch float32, on the same crops: heatmaps and decoded
keypoints (the export's parity check, the quantized file's accuracy report)."""
from typing import Dict

import numpy as np
import torch
from torch import Tensor, nn

from .export import HeatmapModule
from .onnxruntime_backend import OnnxRuntimeBackend


def keypoint_agreement(model: nn.Module, backend, crops: Tensor) -> Dict[str, float]:
    """A backend's heatmaps and decoded keypoints against PyTorch float32's on ``crops``.

    Both heatmaps (no flip test) are decoded by the model's codec (``batch_decode``);
    distances are in crop pixels (the codec's input size).

    Args:
        model (nn.Module): The PyTorch pose model (run in float32)
        backend: What has ``heatmaps(crops)`` (a :class:`cpn_mm.runtime.HeatmapBackend`)
        crops (Tensor): Preprocessed crops (N, 3, h, w)

    Returns:
        dict: ``num_crops``, ``max_abs_diff`` (heatmaps), ``num_keypoints_differing``,
        ``median_px``, ``max_px``, ``within_1px`` (share of keypoints), ``max_score_diff``.
    """
    with torch.no_grad():
        ref = HeatmapModule(model).eval()(crops.float()).float().cpu().numpy()
        got = backend.heatmaps(crops).float().cpu().numpy()
    codec = model.head.decoder
    k_ref, s_ref = codec.batch_decode(ref)
    k_got, s_got = codec.batch_decode(got)
    d = np.linalg.norm(k_got - k_ref, axis=-1)
    return dict(num_crops=int(crops.shape[0]), max_abs_diff=float(np.abs(ref - got).max()),
                num_keypoints_differing=int((k_ref != k_got).any(-1).sum()),
                median_px=float(np.median(d)), max_px=float(d.max()),
                within_1px=float((d <= 1).mean()),
                max_score_diff=float(np.abs(s_got - s_ref).max()))


def verify_onnx(model: nn.Module, onnx_file: str, inputs: Tensor,
                atol: float = 1e-3) -> Dict[str, float]:
    """Compare PyTorch and ONNX Runtime heatmaps and decoded keypoints on ``inputs``
    (:func:`keypoint_agreement`).

    Args:
        inputs (Tensor): Preprocessed crops (N, 3, h, w), e.g. :func:`cpn_mm.apis.sample_crops`

    Returns:
        dict: what :func:`keypoint_agreement` returns.

    Raises:
        AssertionError: if the heatmaps differ by ``atol`` or more or any decoded keypoint
            differs.
    """
    report = keypoint_agreement(model, OnnxRuntimeBackend(onnx_file, model), inputs)
    if report['max_abs_diff'] >= atol or report['num_keypoints_differing']:
        raise AssertionError(f'ONNX export differs from PyTorch: {report} (atol {atol})')
    return report


__all__ = ['keypoint_agreement', 'verify_onnx']
