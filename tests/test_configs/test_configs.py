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


ALL_CONFIGS = sorted(
    osp.relpath(p, osp.join(REPO, 'configs'))
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if not osp.basename(p).startswith('cpn_r18_coco-sample'))


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
    assert found == set(COCO_CONFIGS) | {'cpn_r18_coco-sample_192x144.py'}


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
