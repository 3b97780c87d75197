# Copyright (c) cpn_mm authors. All rights reserved.
"""tf-cpn's straightforward forward of CPNGlobalNet and CPNRefineHead, on their parameters.

:class:`cpn_mm.models.CPNGlobalNet` runs each merge conv before the bilinear resize and
:class:`cpn_mm.models.CPNRefineHead` never builds the concatenation before its last bottleneck
(same parameters, same outputs to float rounding, fewer multiply-adds). These functions compute
the same modules the way tf-cpn writes them: the reference of the equivalence tests and of the
benchmark's "straightforward" FLOP count.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor, nn

from cpn_mm.models.necks.cpn_global_net import resize_to


def straightforward_neck(neck: nn.Module,
                         inputs: Sequence[Tensor]) -> Tuple[Tuple[Tensor, ...], Tuple[Tensor, ...]]:
    """tf-cpn's ``create_global_net`` with ``neck``'s modules: resize the running map, then
    the merge conv, then add the lateral.

    Args:
        neck (CPNGlobalNet): The parameters
        inputs (Sequence[Tensor]): Backbone levels (B, C_i, h_i, w_i), finest first

    Returns:
        tuple: ``(feats, heatmaps)`` as ``CPNGlobalNet.forward``.
    """
    out_size = inputs[0].shape[-2:]
    feats, heatmaps, last = [None] * neck.num_levels, [None] * neck.num_levels, None
    for i in range(neck.num_levels - 1, -1, -1):
        lateral = neck.lateral_convs[i](inputs[i])
        if last is not None:
            lateral = neck.merge_convs[i](resize_to(last, lateral.shape[-2:])) + lateral
        last = feats[i] = lateral
        heatmaps[i] = resize_to(neck.predict_layers[i](last), out_size)
    return tuple(feats), tuple(heatmaps)


def straightforward_head(head: nn.Module, feats) -> Tensor:
    """tf-cpn's ``create_refine_net`` with ``head``'s modules: every level through its
    bottlenecks, resized to the finest size, concatenated (B, L * C, H, W), the last
    bottleneck, the predictor.

    Returns:
        Tensor: Refined heatmaps (B, K, H, W), as ``CPNRefineHead.forward``.
    """
    pyramid = feats[0]
    out_size = pyramid[0].shape[-2:]
    cat = torch.cat(
        [resize_to(b(p), out_size) for b, p in zip(head.level_blocks, pyramid)], dim=1)
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
