# Copyright (c) cpn_mm authors. All rights reserved.
"""The straightforward forward of CPNGlobalNet and CPNRefineHead, on their parameters.

:class:`cpn_mm.models.CPNGlobalNet` runs each merge conv before the bilinear resize and
:class:`cpn_mm.models.CPNRefineHead` never builds the concatenation before its last bottleneck
(same parameters, same outputs to float rounding, fewer multiply-adds). These functions compute
the same modules the way the sources write them (resize, merge conv (+ norm), add; predictors
resized at the end; resize every level, concatenate, bottleneck), honouring the modules'
options (``resize_mode``, ``merge_norm_cfg``, ``heatmap_norm_after_resize``), with an
independent implementation of each resize convention. They are the reference of the equivalence
tests and of the benchmark's "straightforward" FLOP count.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def tf_legacy_resize(x: Tensor, size: Sequence[int]) -> Tensor:
    """TF1 ``resize_bilinear(align_corners=False, half_pixel_centers=False)`` by gathering:
    source = destination * in / out, floor, clamp the upper neighbour, lerp."""
    (h, w), (oh, ow) = x.shape[-2:], size

    def axis(n_in, n_out):
        src = torch.arange(n_out, dtype=torch.float64) * (n_in / n_out)
        lo = src.floor().long()
        return lo, (lo + 1).clamp(max=n_in - 1), (src - lo).to(x.dtype)

    y0, y1, fy = axis(h, oh)
    x0, x1, fx = axis(w, ow)
    top, bottom = x[..., y0, :], x[..., y1, :]
    rows = top + (bottom - top) * fy[:, None]
    return rows[..., x0] + (rows[..., x1] - rows[..., x0]) * fx


def reference_resize(x: Tensor, size: Sequence[int], mode: str = 'half_pixel') -> Tensor:
    """Bilinear resize of (B, C, H, W) to ``size`` = (H', W') in ``mode`` (see
    :mod:`cpn_mm.models.utils.resize`), written independently of it."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == 'asymmetric':
        return tf_legacy_resize(x, size)
    return F.interpolate(x, size=tuple(size), mode='bilinear',
                         align_corners=mode == 'align_corners')


def straightforward_neck(neck: nn.Module,
                         inputs: Sequence[Tensor]) -> Tuple[Tuple[Tensor, ...], Tuple[Tensor, ...]]:
    """The GlobalNet with ``neck``'s modules: top-down, resize the running map, then the merge
    conv (and its norm), then add the lateral; per level the predictor, then the resize (with
    ``heatmap_norm_after_resize``: its last conv, the resize, its norm).

    Args:
        neck (CPNGlobalNet): The parameters and options
        inputs (Sequence[Tensor]): Backbone levels (B, C_i, h_i, w_i), finest first

    Returns:
        tuple: ``(feats, heatmaps)`` as ``CPNGlobalNet.forward``.
    """
    mode = neck.resize_mode
    out_size = inputs[0].shape[-2:]
    feats, heatmaps, last = [None] * neck.num_levels, [None] * neck.num_levels, None
    for i in range(neck.num_levels - 1, -1, -1):
        lateral = neck.lateral_convs[i](inputs[i])
        if last is not None:
            up = reference_resize(last, lateral.shape[-2:], mode)
            lateral = neck.merge_convs[i](up) + lateral
        last = feats[i] = lateral
        hidden, pred = neck.predict_layers[i]
        if neck.heatmap_norm_after_resize:
            heatmaps[i] = pred.norm(reference_resize(pred.conv(hidden(last)), out_size, mode))
        else:
            heatmaps[i] = reference_resize(pred(hidden(last)), out_size, mode)
    return tuple(feats), tuple(heatmaps)


def straightforward_head(head: nn.Module, feats) -> Tensor:
    """The RefineNet with ``head``'s modules: every level through its bottlenecks, resized to
    the finest size, concatenated (B, L * C, H, W) finest first, the last bottleneck, the
    predictor.

    Returns:
        Tensor: Refined heatmaps (B, K, H, W), as ``CPNRefineHead.forward``.
    """
    pyramid = feats[0]
    out_size = pyramid[0].shape[-2:]
    cat = torch.cat([
        reference_resize(b(p), out_size, head.resize_mode)
        for b, p in zip(head.level_blocks, pyramid)
    ], dim=1)
    return head.final_layer(head.final_block(cat))


class StraightforwardGlobalNet(nn.Module):
    """:func:`straightforward_neck` as a module (e.g. for FLOP counting)."""

    def __init__(self, neck: nn.Module) -> None:
        super().__init__()
        self.neck = neck

    def forward(self, inputs: Sequence[Tensor]):
        return straightforward_neck(self.neck, inputs)


class StraightforwardRefineHead(nn.Module):
    """:func:`straightforward_head` as a module (e.g. for FLOP counting)."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, feats) -> Tensor:
        return straightforward_head(self.head, feats)
