# Copyright (c) cpn_mm authors. All rights reserved.
__version__ = '0.1.0'
