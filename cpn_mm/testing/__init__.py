# Copyright (c) cpn_mm authors. All rights reserved.
"""Reference implementations for tests and benchmarks (not used by the models)."""
from .straightforward import (StraightforwardGlobalNet, StraightforwardRefineHead,
                              straightforward_head, straightforward_neck)

__all__ = ['straightforward_neck', 'straightforward_head', 'StraightforwardGlobalNet',
           'StraightforwardRefineHead']
