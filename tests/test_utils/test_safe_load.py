# Copyright (c) cpn_mm authors. All rights reserved.
"""The safe-load allow-list (cpn_mm.utils.safe_load): real MMEngine checkpoint contents load with
``torch.load(weights_only=True)``; a crafted pickle that calls ``getattr`` on anything but
HistoryBuffer's statistics methods is refused."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

import cpn_mm  # noqa: F401  (adds the allow-list)


class PickledGetattr:
    """Unpickles as ``getattr(obj, name)``: what a crafted checkpoint would contain."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


def save(obj, path):
    torch.save(obj, path)
    return path


def test_message_hub_contents_load(tmp_path):
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    path = save(dict(buffer=buf, meta=dict(seed=np.int64(3), mean=np.zeros(3, np.float32),
                                           dtype=np.dtype('float32'))),
                tmp_path / 'ok.pth')
    loaded = torch.load(path, weights_only=True)
    assert loaded['buffer'].mean() == pytest.approx(7 / 3)
    assert loaded['meta']['seed'] == 3 and loaded['meta']['dtype'] == np.float32


@pytest.mark.parametrize('obj, name', [
    (HistoryBuffer, 'update'),       # a method that is not a statistic
    (HistoryBuffer, '__class__'),    # a way out to type objects
    (HistoryBuffer, '__init__'),
    (np.ndarray, 'mean'),            # a statistic's name on another allowed type
])
def test_crafted_getattr_is_refused(tmp_path, obj, name):
    path = save(dict(x=PickledGetattr(obj, name)), tmp_path / 'crafted.pth')
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(path, weights_only=True)


def test_statistics_getattr_is_allowed(tmp_path):
    path = save(dict(x=PickledGetattr(HistoryBuffer, 'mean')), tmp_path / 'stat.pth')
    assert torch.load(path, weights_only=True)['x'] is HistoryBuffer.mean
