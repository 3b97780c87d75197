# Copyright (c) cpn_mm authors. All rights reserved.
"""Converted and trained checkpoints carry ``meta['dataset_meta']`` (COCO's keypoint layout), and
MMPose's ``init_model`` takes it from there: it reads the checkpoint first, then the config's
training dataset, and otherwise falls back to COCO with a warning."""
import os.path as osp
import pickle
import warnings

import pytest
import torch

from ..helpers import REPO, SAMPLE_CONFIG

NO_META_WARNING = 'Can not load dataset_meta from the checkpoint or the model config'
CONVERTED = {'tf-cpn': ('tf_cpn_converted', 'tf-cpn_r50_coco_256x192.py'),
             'pytorch-cpn': ('pytorch_cpn_converted', 'pytorch-cpn_r50_coco_256x192.py')}


def dataset_meta(checkpoint: str) -> dict:
    return torch.load(checkpoint, map_location='cpu', weights_only=False)['meta']['dataset_meta']


def same(a: dict, b: dict) -> bool:
    """Equal as pickles: MMEngine's runner compares a resumed checkpoint's dataset_meta so."""
    return pickle.dumps(a) == pickle.dumps(b)


def model_only_config(source: str, tmp_path) -> str:
    """The converted model's config reduced to its model: no dataset to take metainfo from."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', source, CONVERTED[source][1]))
    path = str(tmp_path / f'{source}_model_only.py')
    Config(dict(model=cfg.model.to_dict(), custom_imports=cfg.custom_imports,
                default_scope='mmpose')).dump(path)
    return path


def sample_training_metainfo() -> dict:
    """What MMEngine's runner saves as ``dataset_meta`` for the sample config: the metainfo of
    its training dataset (MMPose's ``CombinedDataset`` with COCO's metainfo, around a
    ``RepeatDataset`` of ``CPNCocoDataset``)."""
    from mmengine.config import Config
    from mmpose.registry import DATASETS
    cfg = Config.fromfile(SAMPLE_CONFIG)
    return DATASETS.build(cfg.train_dataloader.dataset).metainfo


def layout(metainfo: dict) -> dict:
    """The keypoint layout: all but ``CLASSES``, the annotation file's categories, which a
    dataset adds when it loads its annotations (a converter has none)."""
    return {k: v for k, v in metainfo.items() if k != 'CLASSES'}


@pytest.mark.parametrize('source', list(CONVERTED))
def test_converted_checkpoint_carries_what_training_on_coco_saves(source, request):
    dst, meta = request.getfixturevalue(CONVERTED[source][0])
    saved = dataset_meta(dst)
    assert same(saved, meta['dataset_meta'])
    assert saved['dataset_name'] == 'coco' and saved['num_keypoints'] == 17
    assert same(saved, layout(sample_training_metainfo()))


def test_trained_checkpoint_carries_it_too(sample_checkpoint, tf_cpn_converted):
    """MMEngine's runner saves the training dataset's metainfo, here the ``CombinedDataset``'s
    (COCO's layout, no annotation categories): exactly the converted checkpoints'."""
    _, checkpoint = sample_checkpoint
    trained = dataset_meta(checkpoint)
    assert same(trained, sample_training_metainfo())
    assert same(trained, dataset_meta(tf_cpn_converted[0]))


@pytest.mark.parametrize('source', list(CONVERTED))
def test_init_model_takes_dataset_meta_from_the_checkpoint(source, request, tmp_path):
    from mmpose.apis import init_model
    dst, _ = request.getfixturevalue(CONVERTED[source][0])
    config = model_only_config(source, tmp_path)
    # the config gives no metainfo: without a checkpoint MMPose falls back to COCO and says so
    with pytest.warns(UserWarning, match=NO_META_WARNING):
        init_model(config, None, device='cpu')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = init_model(config, dst, device='cpu')
    assert not [w for w in caught if NO_META_WARNING in str(w.message)]
    assert same(model.dataset_meta, dataset_meta(dst))


def test_no_dataset_meta_for_another_keypoint_layout():
    from cpn_mm.converters.common import coco_dataset_meta
    for k, expected in ((14, None), (17, 17)):
        state = {'head.final_layer.conv.weight': torch.zeros(k, 8, 1, 1)}
        assert (coco_dataset_meta(state) or {}).get('num_keypoints') == expected
