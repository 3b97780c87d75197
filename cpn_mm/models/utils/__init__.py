# Copyright (c) cpn_mm authors. All rights reserved.
from .init import xavier_init_cfg
from .resize import RESIZE_MODES, check_resize_mode, resize_bilinear
from .tta import flip_average

__all__ = ['RESIZE_MODES', 'check_resize_mode', 'resize_bilinear', 'xavier_init_cfg',
           'flip_average']
