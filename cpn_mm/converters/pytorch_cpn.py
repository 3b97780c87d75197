# Copyright (c) cpn_mm authors. All rights reserved.
"""pytorch-cpn (github.com/GengDavid/pytorch-cpn) checkpoints -> MMEngine checkpoints.

pytorch-cpn saves ``torch.save({'epoch', 'state_dict', 'optimizer'})`` from a model wrapped in
``nn.DataParallel`` (keys prefixed ``module.``). Only the file format and the key names are
used here (nothing of pytorch-cpn's GPL-3.0 code): ``resnet.*`` is torchvision's ResNet, which
is MMPose's ``ResNet`` key for key; ``global_net.{laterals,upsamples,predict}.j`` and
``refine_net.cascade.j`` count pyramid levels from the coarsest (j = 0: res5), cpn_mm from the
finest. The last RefineNet bottleneck reads the concatenation in the order P5, P4, P3, P2, cpn_mm
in the order P2..P5, so the input channels of its ``conv1`` and shortcut conv are reordered
(an exact reparametrisation). ``optimizer`` and BN's ``num_batches_tracked`` are ignored.

Files from before September 2018 still have a bias on the top-down 1x1 conv (``upsamples.j.1``)
that BN follows: it is folded into that BN's running mean (``mean - bias``: the same function in
eval mode for any epsilon; in training BN's batch mean cancels a bias anyway).
"""
import os.path as osp
import pickle
import re
import zipfile
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from .common import (CheckpointConversionError, NameTable, build_target_state, coco_dataset_meta,
                     depth_from_stage3_units, file_digests, map_state, model_cfg_from_config,
                     save_checkpoint, source_model_cfg)

#: pytorch-cpn's input: RGB, pixel / 255 - mean / 255 (no std)
PYTORCH_CPN_MEAN_RGB = [122.7717, 115.9465, 102.9801]

FORMAT = ("pytorch-cpn: torch.save({'epoch', 'state_dict', 'optimizer'}) of an "
          "nn.DataParallel model (keys 'module.*'), kernels OIHW")

_NUM_LEVELS = 4
_BN_LEAVES = ('weight', 'bias', 'running_mean', 'running_var')


def pytorch_cpn_model_cfg(depth: int = 50, num_keypoints: int = 17) -> dict:
    """The model config that computes pytorch-cpn's network (``configs/pytorch-cpn/``)."""
    norm_cfg = dict(type='BN', eps=1e-5)
    return source_model_cfg(
        depth, num_keypoints, norm_cfg, PYTORCH_CPN_MEAN_RGB, bgr_to_rgb=True,
        neck=dict(resize_mode='align_corners', merge_norm_cfg=norm_cfg,
                  heatmap_norm_after_resize=True),
        head=dict(resize_mode='align_corners', cascade_projection_shortcut=True))


def _reverse_levels(array: np.ndarray) -> np.ndarray:
    """(C_out, L * C, 1, 1) weights reading [P5, P4, P3, P2] -> reading [P2, P3, P4, P5]."""
    chunks = np.split(array, _NUM_LEVELS, axis=1)
    return np.concatenate(chunks[::-1], axis=1)


def _bn(table: NameTable, src: str, dst: str) -> None:
    for leaf in _BN_LEAVES:
        table[f'{src}.{leaf}'] = (f'{dst}.{leaf}', None)


def _bottleneck(table: NameTable, src: str, dst: str, projection: bool) -> None:
    for k in (1, 2, 3):
        table[f'{src}.conv{k}.weight'] = (f'{dst}.conv{k}.weight', None)
        _bn(table, f'{src}.bn{k}', f'{dst}.bn{k}')
    if projection:
        table[f'{src}.downsample.0.weight'] = (f'{dst}.downsample.0.weight', None)
        _bn(table, f'{src}.downsample.1', f'{dst}.downsample.1')


def pytorch_cpn_name_table(depth: int = 50) -> NameTable:
    """Every ``state_dict`` key of pytorch-cpn (without ``module.`` and ``num_batches_tracked``)
    -> (cpn_mm state_dict key, transform or None)."""
    from .common import RESNET_STAGE_BLOCKS
    if depth not in RESNET_STAGE_BLOCKS:
        raise ValueError(f'`depth` must be one of {sorted(RESNET_STAGE_BLOCKS)}, got {depth!r}')
    table: NameTable = {'resnet.conv1.weight': ('backbone.conv1.weight', None)}
    _bn(table, 'resnet.bn1', 'backbone.bn1')
    for b, units in enumerate(RESNET_STAGE_BLOCKS[depth], start=1):
        for u in range(units):
            _bottleneck(table, f'resnet.layer{b}.{u}', f'backbone.layer{b}.{u}', u == 0)
    L = _NUM_LEVELS
    for j in range(L):  # j = 0 is res5, the coarsest
        i = L - 1 - j
        table[f'global_net.laterals.{j}.0.weight'] = (f'neck.lateral_convs.{i}.conv.weight',
                                                       None)
        _bn(table, f'global_net.laterals.{j}.1', f'neck.lateral_convs.{i}.bn')
        if j < L - 1:  # upsamples.j feeds the next finer level, L - 2 - j
            m = L - 2 - j
            table[f'global_net.upsamples.{j}.1.weight'] = (f'neck.merge_convs.{m}.conv.weight',
                                                            None)
            _bn(table, f'global_net.upsamples.{j}.2', f'neck.merge_convs.{m}.bn')
        table[f'global_net.predict.{j}.0.weight'] = (f'neck.predict_layers.{i}.0.conv.weight',
                                                      None)
        _bn(table, f'global_net.predict.{j}.1', f'neck.predict_layers.{i}.0.bn')
        table[f'global_net.predict.{j}.3.weight'] = (f'neck.predict_layers.{i}.1.conv.weight',
                                                      None)
        _bn(table, f'global_net.predict.{j}.5', f'neck.predict_layers.{i}.1.bn')
        for k in range(L - 1 - j):  # cascade j: 3 - j bottlenecks, all with a projection
            _bottleneck(table, f'refine_net.cascade.{j}.{k}', f'head.level_blocks.{i}.{k}', True)
    _bottleneck(table, 'refine_net.final_predict.0', 'head.final_block', True)
    for key in ('head.final_block.conv1.weight', 'head.final_block.downsample.0.weight'):
        src = 'refine_net.final_predict.0.' + key[len('head.final_block.'):]
        table[src] = (key, _reverse_levels)
    table['refine_net.final_predict.1.weight'] = ('head.final_layer.conv.weight', None)
    _bn(table, 'refine_net.final_predict.2', 'head.final_layer.bn')
    return table


def read_pytorch_cpn(path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    """``(state_dict as arrays without 'module.', info)`` of a pytorch-cpn file.

    Loaded with ``torch.load(weights_only=True)``: tensors and plain containers only, never
    arbitrary pickled objects.
    """
    if not osp.isfile(path):
        raise CheckpointConversionError(f'no such file: {path}')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError,
            ValueError, AttributeError, ImportError, KeyError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointConversionError(
            f'cannot read {path} as a PyTorch checkpoint (truncated, corrupt, not written by '
            f'torch.save, or holding objects other than tensors and plain containers): {first}'
        ) from e
    info = {}
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        info = {k: ckpt[k] for k in ('epoch', ) if k in ckpt}
        state = ckpt['state_dict']
    else:
        state = ckpt
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        keys = sorted(map(str, ckpt))[:8] if isinstance(ckpt, dict) else '-'
        raise CheckpointConversionError(
            f'{path} holds no pytorch-cpn state_dict: expected a dict with "state_dict" '
            "({'epoch', 'state_dict', 'optimizer'}) or a state_dict of tensors, got "
            f'{type(ckpt).__name__} with keys {keys}')
    arrays = {}
    for key, value in state.items():
        name = key[len('module.'):] if key.startswith('module.') else key
        arrays[name] = value.detach().cpu().numpy()
    info['data_parallel'] = all(k.startswith('module.') for k in state)
    return arrays, info


def convert_pytorch_cpn(src: str,
                        dst: str,
                        model_cfg: Optional[dict] = None,
                        config: Optional[str] = None) -> Tuple[str, dict]:
    """Convert a pytorch-cpn ``.pth.tar`` to an MMEngine checkpoint for cpn_mm.

    Args:
        src (str): The pytorch-cpn file (``{'epoch', 'state_dict', 'optimizer'}``)
        dst (str): The output ``.pth`` (written atomically, only if everything maps)
        model_cfg (dict, optional): The target model; default :func:`pytorch_cpn_model_cfg`
            for the depth and keypoint count found in the file
        config (str, optional): A config file whose ``model`` is the target (``--config``)

    Returns the output path and the checkpoint's ``meta``, and raises
    ``CheckpointConversionError`` (nothing written), as :func:`convert_tf_cpn`.
    """
    arrays, info = read_pytorch_cpn(src)
    ignored = sorted(n for n in arrays if n.endswith('num_batches_tracked'))
    units = {int(m.group(1)) for n in arrays for m in [re.match(r'resnet\.layer3\.(\d+)\.', n)]
             if m}
    if not units:
        raise CheckpointConversionError(
            f'cannot convert {src}: no pytorch-cpn backbone keys (module.resnet.layer3.*) among '
            f'{len(arrays)} keys (first: {sorted(arrays)[:5]}): not a pytorch-cpn checkpoint?')
    depth = depth_from_stage3_units(max(units) + 1, src)
    # before Sept. 2018: a bias on the top-down 1x1 conv, folded into the following BN
    folded = []
    for j in range(_NUM_LEVELS - 1):
        bias, mean = f'global_net.upsamples.{j}.1.bias', f'global_net.upsamples.{j}.2.running_mean'
        if bias in arrays and mean in arrays and arrays[bias].shape == arrays[mean].shape:
            arrays[mean] = arrays[mean] - arrays.pop(bias)
            folded.append(bias)
    if model_cfg is None:
        if config is not None:
            model_cfg = model_cfg_from_config(config)
        else:
            out = arrays.get('refine_net.final_predict.1.weight')
            num_keypoints = int(out.shape[0]) if out is not None and out.ndim == 4 else 17
            model_cfg = pytorch_cpn_model_cfg(depth, num_keypoints)
    target = build_target_state(model_cfg)
    table = pytorch_cpn_name_table(depth)
    state = map_state(src, arrays, table, target, ignored)
    meta = dict(
        converted_from=osp.abspath(src),
        source_format=FORMAT,
        source_files=file_digests([src]),
        converter=('cpn_mm.converters.convert_pytorch_cpn '
                   '(tools/model_converters/pytorch_cpn2mmpose.py)'),
        source_variables=len(table),
        ignored_variables=len(ignored),
        folded_biases=folded)
    dataset_meta = coco_dataset_meta(state)
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    if 'epoch' in info and isinstance(info['epoch'], int):
        meta['source_epoch'] = info['epoch']
    return save_checkpoint(state, meta, dst), meta
