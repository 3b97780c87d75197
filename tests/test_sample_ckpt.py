# Copyright (c) cpn_mm authors. All rights reserved.
import os.path as osp

import torch

from .test_converters.test_dataset_meta import dataset_meta, layout, same, sample_training_metainfo


def test_sample_checkpoint_loads_with_safe_torch_load(sample_checkpoint):
    _, ckpt = sample_checkpoint
    assert osp.isfile(ckpt)
    # torch >= 2.6: weights_only=True by default; cpn_mm allows what MMEngine checkpoints hold
    state = torch.load(ckpt, map_location='cpu')
    assert {'meta', 'state_dict', 'message_hub', 'optimizer'} <= set(state)


def test_trained_checkpoint_carries_the_converted_dataset_meta(sample_checkpoint):
    """MMEngine's runner saves the training dataset's metainfo, here the ``CombinedDataset``'s:
    COCO's layout with no annotation categories, which is exactly what the converters write
    (``tests/test_converters/test_dataset_meta.py`` pins theirs to ``layout()`` of the same
    metainfo; the converter tests run in their own process, see the Makefile)."""
    _, checkpoint = sample_checkpoint
    trained = dataset_meta(checkpoint)
    assert same(trained, sample_training_metainfo())
    assert same(trained, layout(sample_training_metainfo()))
