# Copyright (c) cpn_mm authors. All rights reserved.
"""Reference implementations for tests and benchmarks (not used by the models)."""
from .straightforward import (StraightforwardGlobalNet, StraightforwardRefineHead, reference_resize,
                              straightforward_head, straightforward_neck, tf_legacy_resize)

__all__ = [
    'straightforward_neck', 'straightforward_head', 'StraightforwardGlobalNet',
    'StraightforwardRefineHead', 'reference_resize', 'tf_legacy_resize'
]
