# Copyright (c) cpn_mm authors. All rights reserved.
"""The safe-load allow-list (cpn_mm.utils.safe_load): real MMEngine checkpoint contents load with
``torch.load(weights_only=True)``; a crafted pickle that calls ``getattr`` on anything but
HistoryBuffer's statistics methods is refused.

What cpn_mm promises on torch < 2.4, which has no allow-list (``add_safe_globals``):
torch.load defaults to ``weights_only=False`` there, which is what MMEngine's
``load_checkpoint`` (``load_from``) and ``--resume`` use, so they work (tests/test_runner
resumes through tools/train.py on both stacks); where a caller asks for ``weights_only=True``,
torch's own unpickler refuses every non-tensor type, so a crafted checkpoint is refused all the
same (with torch's message)."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

import cpn_mm  # noqa: F401  (adds the allow-list)

HAS_ALLOW_LIST = hasattr(torch.serialization, 'add_safe_globals')
NEEDS_ALLOW_LIST = pytest.mark.skipif(
    not HAS_ALLOW_LIST,
    reason=f'torch {torch.__version__} (< 2.4) has no weights_only allow-list: MMEngine '
    'checkpoints load with its default weights_only=False instead (see the module docstring)')
# who refuses a crafted getattr: cpn_mm's restricted getattr, or torch < 2.4's unpickler, which
# allows no non-tensor global at all
REFUSAL = 'refusing getattr' if HAS_ALLOW_LIST else 'Unsupported (class|global).*getattr'


class PickledGetattr:
    """Unpickles as ``getattr(obj, name)``: what a crafted checkpoint would contain."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


def save(obj, path):
    torch.save(obj, path)
    return path


def _message_hub_checkpoint(tmp_path):
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    return save(dict(buffer=buf, meta=dict(seed=np.int64(3), mean=np.zeros(3, np.float32),
                                           dtype=np.dtype('float32'))),
                tmp_path / 'ok.pth')


def _check_loaded(loaded):
    assert loaded['buffer'].mean() == pytest.approx(7 / 3)
    assert loaded['meta']['seed'] == 3 and loaded['meta']['dtype'] == np.float32


@NEEDS_ALLOW_LIST
def test_message_hub_contents_load(tmp_path):
    _check_loaded(torch.load(_message_hub_checkpoint(tmp_path), weights_only=True))


@NEEDS_ALLOW_LIST
def test_dataset_meta_with_an_empty_array_loads(tmp_path):
    """An empty NumPy array pickles its data as ``bytes()``: MMPose's Human3.6M metainfo has
    ``sigmas = []``, saved in a Human3.6M checkpoint's dataset_meta."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/h36m.py'))
    assert meta['sigmas'].size == 0
    loaded = torch.load(save(dict(meta=dict(dataset_meta=meta)), tmp_path / 'h36m.pth'),
                        weights_only=True)
    assert loaded['meta']['dataset_meta']['sigmas'].shape == (0, )
    assert loaded['meta']['dataset_meta']['dataset_name'] == 'h36m'


@pytest.mark.skipif(HAS_ALLOW_LIST, reason=f'torch {torch.__version__} has the allow-list: '
                    'test_message_hub_contents_load covers it')
def test_message_hub_contents_without_allow_list(tmp_path):
    """torch < 2.4: the default load (MMEngine's) reads them; weights_only=True refuses them."""
    path = _message_hub_checkpoint(tmp_path)
    _check_loaded(torch.load(path))
    with pytest.raises(pickle.UnpicklingError, match='Unsupported'):
        torch.load(path, weights_only=True)


@pytest.mark.parametrize('obj, name', [
    (HistoryBuffer, 'update'),       # a method that is not a statistic
    (HistoryBuffer, '__class__'),    # a way out to type objects
    (HistoryBuffer, '__init__'),
    (np.ndarray, 'mean'),            # a statistic's name on another allowed type
])
def test_crafted_getattr_is_refused(tmp_path, obj, name):
    path = save(dict(x=PickledGetattr(obj, name)), tmp_path / 'crafted.pth')
    with pytest.raises(pickle.UnpicklingError, match=REFUSAL):
        torch.load(path, weights_only=True)


@NEEDS_ALLOW_LIST
def test_statistics_getattr_is_allowed(tmp_path):
    path = save(dict(x=PickledGetattr(HistoryBuffer, 'mean')), tmp_path / 'stat.pth')
    assert torch.load(path, weights_only=True)['x'] is HistoryBuffer.mean
