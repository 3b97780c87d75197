# Copyright (c) cpn_mm authors. All rights reserved.
"""Bilinear resizing with a choice of coordinate convention.

The three conventions are named after ONNX ``Resize``'s ``coordinate_transformation_mode``; for
an output pixel ``x_out`` of a resize from ``n_in`` to ``n_out`` pixels the source coordinate is

- ``'half_pixel'``: ``(x_out + 0.5) * n_in / n_out - 0.5``, clamped at 0 (PyTorch's
  ``align_corners=False``; cpn_mm's default);
- ``'align_corners'``: ``x_out * (n_in - 1) / (n_out - 1)`` (PyTorch's ``align_corners=True``;
  pytorch-cpn);
- ``'asymmetric'``: ``x_out * n_in / n_out`` (TF1's ``tf.image.resize_bilinear`` default,
  ``align_corners=False, half_pixel_centers=False``; tf-cpn). No PyTorch interpolation mode
  computes it, so it is applied as two small constant interpolation matrices (exact, fast, and
  exported to ONNX as MatMul).

In every mode the source sample is ``floor(x)`` and ``floor(x) + 1`` (clamped to the last pixel)
with weights ``1 - frac(x)`` and ``frac(x)``: each output is a convex combination of inputs, so a
per-channel affine map (1x1 conv with bias, BN in eval mode) commutes with all three.
"""
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

RESIZE_MODES = ('half_pixel', 'align_corners', 'asymmetric')


def check_resize_mode(mode: str, arg: str = 'resize_mode') -> str:
    """Return ``mode`` if it is one of :data:`RESIZE_MODES`, else raise naming ``arg``."""
    if mode not in RESIZE_MODES:
        raise ValueError(f'`{arg}` must be one of {RESIZE_MODES}, got {mode!r}')
    return mode


@lru_cache(maxsize=64)
def asymmetric_resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) float64 matrix of TF1's legacy bilinear resize along one axis.

    Row ``i`` samples source coordinate ``i * n_in / n_out``: weight ``1 - f`` at
    ``floor`` and ``f`` at ``min(floor + 1, n_in - 1)`` (TF's ``compute_interpolation_weights``
    with ``scale = n_in / n_out``, edges clamped).
    """
    scale = n_in / n_out
    src = np.arange(n_out, dtype=np.float64) * scale
    lo = np.floor(src).astype(np.int64)
    frac = src - lo
    lo = np.minimum(lo, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    mat = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(mat, (rows, lo), 1.0 - frac)
    np.add.at(mat, (rows, hi), frac)
    return mat


def resize_bilinear(x: Tensor, size: Sequence[int], mode: str = 'half_pixel') -> Tensor:
    """Bilinearly resize ``x`` (B, C, H, W) to ``size`` = (H', W') in convention ``mode``.

    Returns ``x`` itself when the size already matches (every mode is then the identity).

    Args:
        x (Tensor): The input in shape (B, C, H, W)
        size (tuple[int, int]): The output size (H', W')
        mode (str): One of :data:`RESIZE_MODES`, see the module docstring

    Returns:
        Tensor: The resized input in shape (B, C, H', W').
    """
    size = (int(size[0]), int(size[1]))
    in_h, in_w = int(x.shape[-2]), int(x.shape[-1])
    if (in_h, in_w) == size:
        return x
    if mode == 'half_pixel':
        return F.interpolate(x, size=size, mode='bilinear', align_corners=False)
    if mode == 'align_corners':
        return F.interpolate(x, size=size, mode='bilinear', align_corners=True)
    if mode != 'asymmetric':
        check_resize_mode(mode, 'mode')
    # (H', H) @ x @ (W, W'): rows first, then columns; both matrices are constants
    out = x
    if in_w != size[1]:
        mat_w = torch.from_numpy(asymmetric_resize_matrix(in_w, size[1]).T.copy()).to(
            device=x.device, dtype=x.dtype)
        out = torch.matmul(out, mat_w)
    if in_h != size[0]:
        mat_h = torch.from_numpy(asymmetric_resize_matrix(in_h, size[0])).to(
            device=x.device, dtype=x.dtype)
        out = torch.matmul(mat_h, out)
    return out
