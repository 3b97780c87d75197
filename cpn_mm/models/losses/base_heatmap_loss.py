# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

from torch import Tensor, nn

from .squared_error import at_least_float32


class BaseHeatmapLoss(nn.Module):
    """A loss between predicted and target heatmaps with per-keypoint masks.

    :meth:`forward` checks the shapes, casts lower-precision heatmaps (bfloat16/float16 under
    autocast, ``--amp``) to float32 and calls :meth:`compute`, which subclasses implement: CPN's
    losses, and the OHKM ranking, are computed in float32 (float64 stays float64).

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0
    """

    def __init__(self, loss_weight: float = 1.) -> None:
        super().__init__()
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
        output, target = at_least_float32(output), at_least_float32(target)
        if output.shape != target.shape or output.dim() != 4:
            raise ValueError('`output` and `target` must both have shape (B, K, H, W), got '
                             f'{tuple(output.shape)} and {tuple(target.shape)}')
        if target_weights is not None and target_weights.shape != output.shape[:2]:
            raise ValueError(f'`target_weights` must have shape {tuple(output.shape[:2])}, '
                             f'got {tuple(target_weights.shape)}')
        return self.compute(output, target, target_weights) * self.loss_weight

    def compute(self, output: Tensor, target: Tensor,
                target_weights: Optional[Tensor]) -> Tensor:
        """The unweighted scalar loss of checked inputs (shapes as in :meth:`forward`)."""
        raise NotImplementedError
