# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from .squared_error import _at_least_float32, per_map_squared_error


@MODELS.register_module()
class OHKMMaskedMSELoss(nn.Module):
    """RefineNet loss of CPN: masked per-keypoint MSE with online hard keypoint mining.

    Per sample and keypoint, ``l[b, k] = mean_{h, w}((output - target)^2) * mask[b, k]``; the
    ``topk`` largest ``l[b, :]`` of each sample are kept, averaged over ``topk`` and then over
    the batch (tf-cpn's ``ohkm``). Masked-out keypoints take part in the ranking with loss 0, as
    in the reference. Vectorised: one ``torch.topk`` for the whole batch. Computed in float32:
    under autocast (``--amp``) bfloat16 heatmaps are cast here, so the OHKM ranking compares
    float32 losses.

    Args:
        topk (int): Number of keypoints kept per sample. Defaults to 8
        use_target_weight (bool): Multiply each keypoint's loss by its mask. Defaults to True
        loss_weight (float): Weight of the loss. Defaults to 1.0
    """

    def __init__(self,
                 topk: int = 8,
                 use_target_weight: bool = True,
                 loss_weight: float = 1.) -> None:
        super().__init__()
        if isinstance(topk, bool) or not isinstance(topk, int) or topk <= 0:
            raise ValueError(f'`topk` must be a positive integer, got {topk!r}')
        self.topk = topk
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None) -> Tensor:
        """Forward function of loss.

        Args:
            output (Tensor): Predicted heatmaps in shape (B, K, H, W)
            target (Tensor): Target heatmaps in shape (B, K, H, W)
            target_weights (Tensor, optional): Keypoint masks in shape (B, K)

        Returns:
            Tensor: The scalar loss, float32 (float64 for float64 inputs).
        """
        output, target = _at_least_float32(output), _at_least_float32(target)
        if output.shape != target.shape or output.dim() != 4:
            raise ValueError('`output` and `target` must both have shape (B, K, H, W), got '
                             f'{tuple(output.shape)} and {tuple(target.shape)}')
        B, K = output.shape[:2]
        if self.topk > K:
            raise ValueError(f'`topk` ({self.topk}) must not exceed the number of keypoints '
                             f'K={K}')
        H, W = output.shape[2:]
        losses = per_map_squared_error(output, target) / (H * W)  # (B, K) spatial MSE
        if self.use_target_weight and target_weights is not None:
            if target_weights.shape != (B, K):
                raise ValueError(f'`target_weights` must have shape {(B, K)}, '
                                 f'got {tuple(target_weights.shape)}')
            losses = losses * target_weights.to(losses.dtype)
        topk_losses, _ = torch.topk(losses, k=self.topk, dim=1, sorted=False)
        return topk_losses.sum() / (self.topk * B) * self.loss_weight
