# Copyright (c) cpn_mm authors. All rights reserved.
from .masked_target_mse_loss import MaskedTargetMSELoss
from .ohkm_masked_mse_loss import OHKMMaskedMSELoss

__all__ = ['MaskedTargetMSELoss', 'OHKMMaskedMSELoss']
