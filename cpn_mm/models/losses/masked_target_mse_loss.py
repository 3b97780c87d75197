# Copyright (c) cpn_mm authors. All rights reserved.
from typing import Optional

from mmpose.registry import MODELS
from torch import Tensor

from .base_heatmap_loss import BaseHeatmapLoss
from .squared_error import per_map_squared_error


@MODELS.register_module()
class MaskedTargetMSELoss(BaseHeatmapLoss):
    """GlobalNet loss of CPN: MSE against the target with masked-out keypoints' target zeroed.

    ``loss = mean_{b, k, h, w}((output - target * mask[b, k])^2) * loss_weight``. Unlike
    MMPose's ``KeypointMSELoss(use_target_weight=True)``, the mask multiplies the target only, so
    the prediction of a masked keypoint (in CPN: not visible, COCO v < 2) is pushed toward zero
    (tf-cpn: ``label * (valids > 1.1)``). Inputs as :meth:`BaseHeatmapLoss.forward`.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0
    """

    def compute(self, output: Tensor, target: Tensor,
                target_weights: Optional[Tensor]) -> Tensor:
        if target_weights is not None:
            target = target * target_weights.to(target.dtype)[:, :, None, None]
        return per_map_squared_error(output, target).sum() / output.numel()
