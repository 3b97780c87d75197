# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

from mmpose.registry import MODELS
from torch import Tensor, nn

from .squared_error import _at_least_float32, per_map_squared_error


@MODELS.register_module()
class MaskedTargetMSELoss(nn.Module):
    """GlobalNet loss of CPN: MSE against the target with masked-out keypoints' target zeroed.

    ``loss = mean_{b, k, h, w}((output - target * mask[b, k])^2) * loss_weight``. Unlike
    MMPose's ``KeypointMSELoss(use_target_weight=True)``, the mask multiplies the target only, so
    the prediction of a masked keypoint (in CPN: not visible, COCO v < 2) is pushed toward zero
    (tf-cpn: ``label * (valids > 1.1)``).

    Computed in float32: under autocast (``--amp``) the GlobalNet heatmaps arrive in bfloat16
    and are cast here (the target is float32).

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
        output, target = _at_least_float32(output), _at_least_float32(target)
        if output.shape != target.shape or output.dim() != 4:
            raise ValueError('`output` and `target` must both have shape (B, K, H, W), got '
                             f'{tuple(output.shape)} and {tuple(target.shape)}')
        if target_weights is not None:
            if target_weights.shape != output.shape[:2]:
                raise ValueError(f'`target_weights` must have shape {tuple(output.shape[:2])}, '
                                 f'got {tuple(target_weights.shape)}')
            target = target * target_weights.to(target.dtype)[:, :, None, None]
        return per_map_squared_error(output, target).sum() / output.numel() * self.loss_weight
