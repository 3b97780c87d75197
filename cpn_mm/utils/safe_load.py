# Copyright (c) cpn_mm authors. All rights reserved.
"""Safe ``torch.load`` for MMEngine checkpoints under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, and MMEngine's checkpoints also hold
its ``HistoryBuffer`` (message hub) and NumPy arrays, dtypes and scalars (dataset metainfo,
seeds). Loading them then fails with ``UnpicklingError``, so ``--resume`` and ``load_from``
break. Instead of turning safe loading off, :func:`allow_mmengine_checkpoints` adds exactly
these types to torch's allow-list (``torch.serialization.add_safe_globals``). Importing
``cpn_mm`` calls it.

A ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``.
``builtins.getattr`` itself is not allowed (it would reach any attribute of any loaded object);
the name is mapped to :func:`history_buffer_getattr`, which only returns HistoryBuffer's
registered statistics methods.
"""
import pickle
from typing import List

import numpy as np
import torch


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to ``HistoryBuffer``'s registered statistics methods."""
    from mmengine.logging.history_buffer import HistoryBuffer

    # the built-in statistics are registered only when a first buffer is created
    builtin = ('min', 'max', 'current', 'mean')
    if obj is HistoryBuffer and (name in builtin or name in HistoryBuffer._statistics_methods):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only '
        'HistoryBuffer statistics methods are allowed')


def mmengine_checkpoint_globals() -> List[object]:
    """The non-tensor types an MMEngine/MMPose checkpoint pickles."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # NumPy 1
        from numpy.core.multiarray import _reconstruct, scalar
    # bytes: an empty array's data pickles as ``bytes()`` (e.g. the empty ``sigmas`` of MMPose's
    # Human3.6M metainfo, in the dataset_meta of a Human3.6M checkpoint); it builds a bytes
    # object and nothing else
    allowed = [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, bytes,
               (history_buffer_getattr, 'builtins.getattr')]
    # dtype classes (NumPy >= 1.25: np.dtypes.Float32DType, ...) of every numeric/bool/str type
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return allowed


def allow_mmengine_checkpoints() -> None:
    """Add :func:`mmengine_checkpoint_globals` to ``torch.serialization``'s safe globals."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allow-list (and does not default to weights_only)
        add(mmengine_checkpoint_globals())
