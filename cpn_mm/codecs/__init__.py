# Copyright (c) cpn_mm authors. All rights reserved.
from .multi_sigma_heatmap import MultiSigmaHeatmap

__all__ = ['MultiSigmaHeatmap']
