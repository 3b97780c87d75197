# Copyright (c) cpn_mm authors. All rights reserved.
"""The models the benchmark compares, built from their configs without pretrained weights
(nothing is downloaded), their inputs and their multiply-adds.

Every contender is built as :class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`
(MMPose's ``TopdownPoseEstimator`` whose ``predict`` runs under ``test_cfg.dtype``), so every
setting applies to all alike. CPN's head casts its heatmaps to float32 before the flip
average and decoding; MMPose's ``HeatmapHead`` and ``MSPNHead`` do not (their decoding goes
through NumPy, which has no bfloat16), so they run as the named subclasses below whose
``forward`` returns float32: the same modules, parameters and state dict.
"""
import copy
import dataclasses
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
from mmpose.models.heads import HeatmapHead, MSPNHead
from mmpose.registry import MODELS
from torch import nn

from cpn_mm.models import CPNGlobalNet
from cpn_mm.utils.precision import to_float32

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMPOSE_COCO_CONFIGS = 'body_2d_keypoint/topdown_heatmap/coco/'


@MODELS.register_module()
class Float32HeatmapHead(HeatmapHead):
    """MMPose's ``HeatmapHead`` whose ``forward`` returns float32 (bfloat16 under autocast
    otherwise), for the benchmark's bf16 rows."""

    def forward(self, feats):
        return to_float32(super().forward(feats))


@MODELS.register_module()
class Float32MSPNHead(MSPNHead):
    """MMPose's ``MSPNHead`` whose ``forward`` returns float32 heatmaps (every stage and
    unit), for the benchmark's bf16 rows."""

    def forward(self, feats):
        return to_float32(super().forward(feats))


FLOAT32_HEADS = {'HeatmapHead': 'Float32HeatmapHead', 'MSPNHead': 'Float32MSPNHead'}


@MODELS.register_module()
class CPNGlobalNetHeatmapsAlways(CPNGlobalNet):
    """:class:`cpn_mm.models.CPNGlobalNet` that runs its heatmap predictors at inference too,
    as it did before they were skipped there (the head drops their output): the benchmark's
    "before" row."""

    def forward(self, inputs, with_heatmaps=None):
        return super().forward(inputs, with_heatmaps=True)


class NeckWithHeatmaps(nn.Module):
    """A :class:`cpn_mm.models.CPNGlobalNet` asked for its heatmaps (what a training step
    runs), as a module for FLOP counting."""

    def __init__(self, neck: nn.Module) -> None:
        super().__init__()
        self.neck = neck

    def forward(self, inputs):
        return self.neck(inputs, with_heatmaps=True)


@dataclasses.dataclass(frozen=True)
class Contender:
    name: str
    config: str  # absolute, or relative to MMPose's installed COCO top-down configs
    implementation: str
    neck: Optional[str] = None  # another registered neck type with the same arguments


CONTENDERS = (
    Contender('CPN-R50', osp.join(REPO, 'configs', 'cpn_r50_coco_256x192.py'), 'cpn_mm'),
    Contender('SimpleBaseline-R50', 'td-hm_res50_8xb64-210e_coco-256x192.py',
              'MMPose HeatmapHead'),
    Contender('MSPN-50 (1 stage)', 'td-hm_mspn50_8xb32-210e_coco-256x192.py', 'MMPose MSPNHead'),
)
BASELINE = 'SimpleBaseline-R50'
CPN = 'CPN-R50'
# CPN as it ran inference before the GlobalNet heatmaps were skipped there (inference only)
CPN_BEFORE = Contender('CPN-R50 (before)', CONTENDERS[0].config,
                       'cpn_mm, GlobalNet heatmaps computed', neck='CPNGlobalNetHeatmapsAlways')


def load_config(contender: Contender):
    from mmengine.config import Config
    path = contender.config
    if not osp.isabs(path):
        import mmpose  # MMPose's configs are installed with the package (.mim)
        path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_COCO_CONFIGS,
                        path)
    return Config.fromfile(path)


def input_size_of(cfg) -> Tuple[int, int]:
    codec = cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec
    return tuple(codec['input_size'])  # (w, h)


def to_memory_format(model: nn.Module, memory_format: str) -> nn.Module:
    """``model`` in ``'channels_last'`` or ``'contiguous'`` memory format (in place); the one
    place where the benchmark converts a model."""
    return model.to(memory_format=torch.channels_last if memory_format == 'channels_last' else
                    torch.contiguous_format)


def build(contender: Contender, memory_format: str):
    """(config, model): the config's model as a MixedPrecisionTopdownPoseEstimator (MMPose's
    heads as their float32-output subclasses), without pretrained weights, in
    ``memory_format``."""
    cfg = load_config(contender)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.type = 'MixedPrecisionTopdownPoseEstimator'
    model_cfg.backbone.init_cfg = None
    model_cfg.head.type = FLOAT32_HEADS.get(model_cfg.head.type, model_cfg.head.type)
    if contender.neck is not None:
        model_cfg.neck.type = contender.neck
    model = MODELS.build(model_cfg)
    model.init_weights()
    return cfg, to_memory_format(model, memory_format)


def make_batch(cfg, batch_size: int, seed: int = 0) -> dict:
    """A batch as the data loader gives it (uint8 images, packed data samples with the
    config's targets), from random images and keypoints."""
    from mmpose.registry import TRANSFORMS
    codec = cfg.codec
    gen = TRANSFORMS.build(
        dict(type='GenerateTarget', encoder=codec, multilevel=isinstance(codec, list)))
    pack = TRANSFORMS.build(dict(type='PackPoseInputs'))
    w, h = input_size_of(cfg)
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        r = dict(
            img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
            keypoints=rng.uniform([0, 0], [w, h], size=(1, 17, 2)).astype(np.float32),
            keypoints_visible=(rng.uniform(size=(1, 17)) > 0.2).astype(np.float32),
            img_shape=(h, w), ori_shape=(h, w), input_size=(w, h),
            input_center=np.array([w / 2, h / 2]), input_scale=np.array([w, h], np.float64),
            bbox=np.array([[0, 0, w, h]], np.float32), bbox_score=np.ones(1, np.float32),
            id=0, img_id=0, img_path='', category_id=1,
            flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
        r = pack(gen(r))
        inputs.append(r['inputs'])
        samples.append(r['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


def gmacs(model, cfg, training: bool) -> Tuple[float, float]:
    """(executed, straightforward) multiply-adds of one crop in G through backbone, neck and
    head (:func:`cpn_mm.apis.complexity`). ``training``: the training forward (CPN's GlobalNet
    heatmap predictors included), else the inference forward (without them). For CPN the
    straightforward tf-cpn forward (:mod:`cpn_mm.testing`, predictors included) is the second
    number; for the others the same number."""
    from cpn_mm.apis import complexity
    from cpn_mm.testing import StraightforwardGlobalNet, StraightforwardRefineHead
    w, h = input_size_of(cfg)
    if not isinstance(model.neck if model.with_neck else None, CPNGlobalNet):
        executed = complexity(model, (h, w))['flops']['total'] / 1e9
        return executed, executed
    parts = dict(neck=NeckWithHeatmaps(model.neck)) if training else None
    executed = complexity(model, (h, w), parts)['flops']['total'] / 1e9
    parts = dict(neck=StraightforwardGlobalNet(model.neck),
                 head=StraightforwardRefineHead(model.head))
    return executed, complexity(model, (h, w), parts)['flops']['total'] / 1e9


def heatmaps_for_decoding(model, inputs: torch.Tensor) -> torch.Tensor:
    """The float32 heatmaps the head decodes (MSPN: the last stage's), for timing decoding."""
    with torch.no_grad():
        out = model.head.forward(model.extract_feat(inputs))
    while isinstance(out, (list, tuple)):
        out = out[-1]
    return out.float()
