# Copyright (c) cpn_mm authors. All rights reserved.
"""The converters' shared writing: complete or untouched, never half-written."""
import os

import pytest
import torch

from cpn_mm.converters import save_checkpoint
from cpn_mm.converters.common import CheckpointConversionError


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    dst = tmp_path / 'model.pth'
    dst.write_bytes(b'old checkpoint')
    state = {'w': torch.ones(3)}
    with pytest.raises(Exception):  # torch.save cannot pickle a lambda: fails mid-write
        save_checkpoint(state, {'bad': lambda: None}, str(dst))
    assert dst.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['model.pth']
    # a good write replaces it completely, readable with safe loading
    save_checkpoint(state, {'converted_from': 'x'}, str(dst))
    ckpt = torch.load(dst, weights_only=True)
    assert torch.equal(ckpt['state_dict']['w'], state['w'])
    assert ckpt['meta']['converted_from'] == 'x' and 'cpn_mm_version' in ckpt['meta']
    assert os.listdir(tmp_path) == ['model.pth']
    with pytest.raises(CheckpointConversionError, match='is a directory'):
        save_checkpoint(state, {}, str(tmp_path))
