# Copyright (c) cpn_mm authors. All rights reserved.
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpose.registry import DATASETS, MODELS

from ..helpers import REPO

COCO_CONFIGS = {
    'cpn_r50_coco_256x192.py': (50, (192, 256)),
    'cpn_r50_coco_384x288.py': (50, (288, 384)),
    'cpn_r101_coco_256x192.py': (101, (192, 256)),
    'cpn_r101_coco_384x288.py': (101, (288, 384)),
}

# tf-cpn's target kernels (P2..P5, RefineNet) per input size (h, w), from the authors' configs
# models/COCO.res{50,101}.{256x192,384x288}.CPN/config.py (gk15, gk11, gk9, gk7; the RefineNet
# target is label7, made with gk7).
TF_CPN_KERNELS = {
    (256, 192): ((15, 11, 9, 7), 7),
    (384, 288): ((23, 17, 13, 9), 9),
}


SHIPPED = sorted(
    osp.relpath(p, osp.join(REPO, 'configs'))
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
SAMPLE_CONFIGS = ('cpn_r18_coco-sample_192x144.py', 'cpn_r18_h36m-sample_192x144.py')
# at tf-cpn's input sizes (the samples' 192x144 is not one)
ALL_CONFIGS = [name for name in SHIPPED if osp.basename(name) not in SAMPLE_CONFIGS]


@pytest.mark.parametrize('name', ALL_CONFIGS)
def test_target_kernels_are_tf_cpns_for_the_input_size(name):
    """Every COCO config, the converted models' included, encodes (and decodes) with tf-cpn's
    kernels for its input size."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    w, h = cfg.model.head.decoder.input_size
    kernels, refine_kernel = TF_CPN_KERNELS[(h, w)]
    encoders = [t['encoder'] for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'GenerateTarget']
    for codec in [cfg.model.head.decoder, *encoders]:
        assert tuple(codec.kernel_sizes) == kernels and codec.refine_kernel_size == refine_kernel


def test_every_config_is_listed():
    found = {osp.basename(p) for p in glob.glob(osp.join(REPO, 'configs', '*.py'))}
    assert found == set(COCO_CONFIGS) | set(SAMPLE_CONFIGS) | {'cpn_r50_h36m_256x192.py'}


def test_model_index_lists_every_shipped_config():
    """mim finds every shipped config through model-index.yml (configs/cpn_coco.yml)."""
    import yaml
    with open(osp.join(REPO, 'configs', 'cpn_coco.yml')) as f:
        models = yaml.safe_load(f)['Models']
    assert sorted(m['Config'] for m in models) == sorted(f'configs/{n}' for n in SHIPPED)
    assert all(m['Name'] == osp.splitext(osp.basename(m['Config']))[0] for m in models)


@pytest.mark.parametrize('name', sorted(COCO_CONFIGS))
def test_coco_config_builds_without_data(name):
    depth, input_size = COCO_CONFIGS[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    # inherits MMPose's runtime through mmpose:: instead of copying it
    assert cfg.default_scope == 'mmpose' and 'SyncBuffersHook' in str(cfg.custom_hooks)
    assert cfg.custom_imports.imports == ['cpn_mm']
    assert cfg.model.backbone.depth == depth
    assert cfg.model.backbone.init_cfg.checkpoint == f'torchvision://resnet{depth}'
    codec = cfg.model.head.decoder
    assert tuple(codec.input_size) == input_size
    assert tuple(codec.heatmap_size) == (input_size[0] // 4, input_size[1] // 4)
    kernels, refine_kernel = TF_CPN_KERNELS[(input_size[1], input_size[0])]
    assert tuple(codec.kernel_sizes) == kernels and codec.refine_kernel_size == refine_kernel
    # the encoder in the training pipeline is the same codec
    encoders = [t['encoder'] for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'GenerateTarget']
    assert len(encoders) == 1 and encoders[0] == codec
    assert cfg.model.test_cfg.flip_test and not cfg.model.test_cfg.shift_heatmap
    assert cfg.val_evaluator.nms_mode == 'none'
    assert cfg.val_evaluator.score_mode == 'bbox_keypoint'
    assert cfg.val_dataloader.dataset.bbox_file.endswith(
        'person_detection_results/COCO_val2017_detections_AP_H_56_person.json')
    assert cfg.auto_scale_lr.base_batch_size == 256
    # building the model does not initialise (download) the backbone
    MODELS.build(cfg.model)
    for key in ('train_dataloader', 'val_dataloader'):
        Compose(cfg[key].dataset.pipeline)
    # the data loaders fail only when run, naming the missing path
    with pytest.raises(AssertionError, match='person_keypoints_train2017.json'):
        DATASETS.build(cfg.train_dataloader.dataset)


@pytest.mark.parametrize('name', SHIPPED)
def test_init_model_without_checkpoint_finds_the_keypoint_layout(name):
    """MMPose's ``init_model`` (and ``MMPoseInferencer``) without weights takes ``dataset_meta``
    from the config's training dataset (``dataset_meta_from_config``): every shipped config
    states its layout there, directly or through ``CombinedDataset``'s ``metainfo``, instead of
    leaving MMPose to fall back to COCO with a warning (or the inferencer to fail)."""
    import warnings

    from mmpose.apis import init_model
    from mmpose.apis.inference import dataset_meta_from_config
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    expected = 'h36m' if '_h36m' in name else 'coco'
    meta = dataset_meta_from_config(cfg, 'train')
    assert meta is not None and meta['dataset_name'] == expected and meta['num_keypoints'] == 17
    if 'sample' not in name:  # model building is the same for the others; spare the time
        return
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='Can not load dataset_meta')
        model = init_model(cfg, None, device='cpu')
    assert model.dataset_meta['dataset_name'] == expected
    assert model.dataset_meta['num_keypoints'] == 17 == model.head.num_keypoints


def test_sample_training_data_unchanged_by_the_combined_dataset():
    """The COCO sample's CombinedDataset (there for its metainfo) yields, under the same random
    state, exactly the samples of the RepeatDataset it wraps with the pipeline inside: what the
    sample config trained on before (same epochs, same AP)."""
    import random

    import numpy as np
    import torch
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cpn_r18_coco-sample_192x144.py'))
    combined = DATASETS.build(cfg.train_dataloader.dataset)
    (repeat_cfg, ) = cfg.train_dataloader.dataset.datasets
    repeat_cfg.dataset.pipeline = cfg.train_dataloader.dataset.pipeline
    repeat = DATASETS.build(repeat_cfg)
    assert len(combined) == len(repeat) == 120
    flips = set()
    for i in (*range(14), 118, 119):  # more than one pass over the 12 persons, and the end
        items = []
        for dataset in (combined, repeat):
            random.seed(i)
            np.random.seed(i)
            items.append(dataset[i])
        a, b = items
        assert torch.equal(a['inputs'], b['inputs'])
        np.testing.assert_equal(a['data_samples'].metainfo, b['data_samples'].metainfo)
        for field in ('gt_fields', 'gt_instance_labels', 'gt_instances'):
            fa, fb = a['data_samples'].get(field), b['data_samples'].get(field)
            assert fa.keys() == fb.keys() and fb.keys(), field
            for key in fb.keys():  # tensors, arrays, or lists of them (the heatmap levels)
                va, vb = fa.get(key), fb.get(key)
                pairs = zip(va, vb) if isinstance(vb, (list, tuple)) else [(va, vb)]
                for x, y in pairs:
                    np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=key)
        flips.add(a['data_samples'].metainfo['flip'])
    assert flips == {True, False}
