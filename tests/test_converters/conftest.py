# Copyright (c) cpn_mm authors. All rights reserved.
"""Session fixtures: each source checkpoint rebuilt once in its own format, and converted."""
import pytest

from ..helpers.golden import (PT_DIR, TF_DIR, recipe_arrays, write_pytorch_cpn_file,
                              write_tf_checkpoint)


@pytest.fixture(scope='session')
def tf_cpn_checkpoint(tmp_path_factory):
    """The golden tf-cpn checkpoint, as tf-cpn's saver writes it: the prefix."""
    folder = tmp_path_factory.mktemp('tf-cpn') / 'COCO.res50.256x192.CPN'
    folder.mkdir()
    return write_tf_checkpoint(recipe_arrays(TF_DIR, 'HWIO'), str(folder / 'snapshot_350.ckpt'))


@pytest.fixture(scope='session')
def tf_cpn_converted(tf_cpn_checkpoint, tmp_path_factory):
    from cpn_mm.converters import convert_tf_cpn
    dst = str(tmp_path_factory.mktemp('tf-cpn-converted') / 'tf-cpn_r50_coco_256x192.pth')
    return convert_tf_cpn(tf_cpn_checkpoint, dst)


@pytest.fixture(scope='session')
def pytorch_cpn_checkpoint(tmp_path_factory):
    """The golden pytorch-cpn checkpoint, as pytorch-cpn saves it (``.pth.tar``)."""
    path = tmp_path_factory.mktemp('pytorch-cpn') / 'CPN256x192.pth.tar'
    return write_pytorch_cpn_file(recipe_arrays(PT_DIR, 'OIHW'), str(path))


@pytest.fixture(scope='session')
def pytorch_cpn_converted(pytorch_cpn_checkpoint, tmp_path_factory):
    from cpn_mm.converters import convert_pytorch_cpn
    dst = str(tmp_path_factory.mktemp('pytorch-cpn-converted') / 'pytorch-cpn_r50_256x192.pth')
    return convert_pytorch_cpn(pytorch_cpn_checkpoint, dst)
