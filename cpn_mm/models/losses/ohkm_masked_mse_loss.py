# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

import torch
from mmpose.registry import MODELS
from torch import Tensor

from .base_heatmap_loss import BaseHeatmapLoss
from .squared_error import per_map_squared_error


@MODELS.register_module()
class OHKMMaskedMSELoss(BaseHeatmapLoss):
    """RefineNet loss of CPN: masked per-keypoint MSE with online hard keypoint mining.

    Per sample and keypoint, ``l[b, k] = mean_{h, w}((output - target)^2) * mask[b, k]``; the
    ``topk`` largest ``l[b, :]`` of each sample are kept, averaged over ``topk`` and then over
    the batch (tf-cpn's ``ohkm``). Masked-out keypoints take part in the ranking with loss 0, as
    in the reference. Vectorised: one ``torch.topk`` for the whole batch. Inputs as
    :meth:`BaseHeatmapLoss.forward`; the losses are ranked in float32 (float64 for float64
    inputs), also under autocast.

    Args:
        topk (int): Number of keypoints kept per sample. Defaults to 8
        use_target_weight (bool): Multiply each keypoint's loss by its mask. Defaults to True
        loss_weight (float): Weight of the loss. Defaults to 1.0
    """

    def __init__(self,
                 topk: int = 8,
                 use_target_weight: bool = True,
                 loss_weight: float = 1.) -> None:
        super().__init__(loss_weight)
        if isinstance(topk, bool) or not isinstance(topk, int) or topk <= 0:
            raise ValueError(f'`topk` must be a positive integer, got {topk!r}')
        self.topk = topk
        self.use_target_weight = use_target_weight

    def compute(self, output: Tensor, target: Tensor,
                target_weights: Optional[Tensor]) -> Tensor:
        B, K, H, W = output.shape
        if self.topk > K:
            raise ValueError(f'`topk` ({self.topk}) must not exceed the number of keypoints '
                             f'K={K}')
        losses = per_map_squared_error(output, target) / (H * W)  # (B, K) spatial MSE
        if self.use_target_weight and target_weights is not None:
            losses = losses * target_weights.to(losses.dtype)
        topk_losses, _ = torch.topk(losses, k=self.topk, dim=1, sorted=False)
        return topk_losses.sum() / (self.topk * B)
