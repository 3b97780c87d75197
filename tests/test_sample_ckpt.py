# Copyright (c) cpn_mm authors. All rights reserved.
import os.path as osp

import torch


def test_sample_checkpoint_loads_with_safe_torch_load(sample_checkpoint):
    _, ckpt = sample_checkpoint
    assert osp.isfile(ckpt)
    # torch >= 2.6: weights_only=True by default; cpn_mm allows what MMEngine checkpoints hold
    state = torch.load(ckpt, map_location='cpu')
    assert {'meta', 'state_dict', 'message_hub', 'optimizer'} <= set(state)
