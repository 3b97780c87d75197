# Copyright (c) cpn_mm authors. All rights reserved.
from .cpn_global_net import CPNGlobalNet

__all__ = ['CPNGlobalNet']
