# Copyright (c) cpn_mm authors. All rights reserved.
from .cpn_refine_head import CPNRefineHead

__all__ = ['CPNRefineHead']
