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


@pytest.mark.parametrize('depth', [50, 101])
def test_name_tables_cover_every_model_key_once(depth):
    """Every parameter and BN statistic of the converted layouts has exactly one source name
    (ResNet-101 included, for which no golden fixture exists)."""
    from collections import Counter

    from cpn_mm.converters import (pytorch_cpn_model_cfg, pytorch_cpn_name_table, tf_cpn_model_cfg,
                                   tf_cpn_name_table)
    from cpn_mm.converters.common import build_target_state
    for model_cfg, table in ((tf_cpn_model_cfg(depth), tf_cpn_name_table(depth)),
                             (pytorch_cpn_model_cfg(depth), pytorch_cpn_name_table(depth))):
        keys = {k for k in build_target_state(model_cfg) if not k.endswith('num_batches_tracked')}
        counts = Counter(dst for dst, _ in table.values())
        assert set(counts) == keys and set(counts.values()) == {1}
    # block3: 6 or 23 units of 3 conv+BN (5 variables each), plus the first unit's shortcut
    units = {50: 6, 101: 23}[depth]
    names = tf_cpn_name_table(depth)
    assert sum(n.startswith(f'resnet_v1_{depth}/block3/') for n in names) == units * 15 + 5
