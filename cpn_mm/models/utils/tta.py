# Copyright (c) cpn_mm authors. All rights reserved.
"""The flip test's average, shared by :class:`cpn_mm.models.CPNRefineHead` and every inference
backend (:mod:`cpn_mm.runtime`), so that all of them average and decode alike."""
from typing import Sequence

from mmpose.models.utils.tta import flip_heatmaps
from torch import Tensor


def flip_average(heatmaps: Tensor, heatmaps_flipped: Tensor, flip_indices: Sequence[int],
                 test_cfg: dict) -> Tensor:
    """The average of the heatmaps of the crops and of their mirrors, in float32.

    ``heatmaps_flipped`` (of the mirrored crops) is flipped back by MMPose's
    ``flip_heatmaps`` (``test_cfg.flip_mode``, default ``'heatmap'``: the width axis reversed
    and the channels swapped by the dataset's ``flip_indices``; shifted by one pixel only with
    ``test_cfg.shift_heatmap=True``; tf-cpn shifts none). Both are cast to float32 first (a
    no-op in float32): under bfloat16 autocast the sum and the decoding read float32, not
    bfloat16's 8-bit mantissa.

    Args:
        heatmaps (Tensor): Heatmaps of the crops (B, K, H, W), any floating dtype
        heatmaps_flipped (Tensor): Heatmaps of the mirrored crops (B, K, H, W)
        flip_indices (list[int]): The keypoint each keypoint becomes when mirrored (K)
        test_cfg (dict): ``flip_mode``, ``shift_heatmap``

    Returns:
        Tensor: (B, K, H, W) float32.
    """
    flipped_back = flip_heatmaps(
        heatmaps_flipped.float(),
        flip_mode=test_cfg.get('flip_mode', 'heatmap'),
        flip_indices=flip_indices,
        shift_heatmap=test_cfg.get('shift_heatmap', False))
    return (heatmaps.float() + flipped_back) * 0.5
