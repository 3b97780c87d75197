# Copyright (c) cpn_mm authors. All rights reserved.
"""tf-cpn (github.com/chenyilun95/tf-cpn, MIT) checkpoints -> MMEngine checkpoints.

tf-cpn saves TF1 name-based checkpoints (``tf.train.Saver``, format V2: ``PREFIX.index`` +
``PREFIX.data-*``). The variable names (``resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/weights``,
``lateral/res2/BatchNorm/gamma``, ``merge/res3/biases``, ...) are those of tf-cpn's
``lib/nets/basemodel.py`` and ``models/*/network.py``; kernels are HWIO. The checkpoint is read
with TensorFlow's own checkpoint reader, so converting needs ``tensorflow-cpu``
(``requirements/convert.txt``); running the converted model does not.

The converted model is cpn_mm's default layout (tf-cpn's) with every bilinear resize in TF1's
``resize_bilinear`` convention (``resize_mode='asymmetric'``) and BN epsilon 1.001e-5: tf-cpn
asks for 1e-9, which TF1's fused batch norm (what the released models were trained and tested
with) raised to 1.001e-5.
"""
import glob
import os.path as osp
import re
from typing import Dict, Optional, Tuple

import numpy as np

from .common import (RESNET_STAGE_BLOCKS, CheckpointConversionError, NameTable, build_target_state,
                     coco_dataset_meta, depth_from_stage3_units, file_digests, hwio_to_oihw,
                     map_state, model_cfg_from_config, save_checkpoint, source_model_cfg)

#: BN epsilon of the released tf-cpn models: TF1's fused batch norm raised tf-cpn's 1e-9 to this
TF1_FUSED_BN_EPS = 1.001e-5
#: tf-cpn's input: BGR, (pixel - mean) / 255 (config.py ``pixel_means``, ``pixel_norm=True``)
TF_CPN_MEAN_BGR = [102.9801, 115.9465, 122.7717]

FORMAT = 'tf-cpn: TensorFlow 1 name-based checkpoint (tf.train.Saver, V2), kernels HWIO'

# Optimizer slots, Adam's power accumulators, the step counter and tfflat's learning-rate
# variable (``tf.Variable(cfg.lr)``, a scalar named ``Variable``): not part of the network.
_IGNORED = re.compile(r'(^|/)(Adam|Adam_\d+|Momentum|RMSProp|RMSProp_\d+)$'
                      r'|^(global_step|beta1_power|beta2_power|Variable(_\d+)?)$')
_BN_LEAVES = (('gamma', 'weight'), ('beta', 'bias'), ('moving_mean', 'running_mean'),
              ('moving_variance', 'running_var'))
_LEVELS = (2, 3, 4, 5)  # res2..res5 = P2..P5 = cpn_mm level 0..3


def tf_cpn_model_cfg(depth: int = 50,
                     num_keypoints: int = 17,
                     bn_eps: float = TF1_FUSED_BN_EPS) -> dict:
    """The model config that computes tf-cpn's network (what ``configs/tf-cpn/`` sets)."""
    return source_model_cfg(
        depth, num_keypoints, dict(type='BN', eps=bn_eps), TF_CPN_MEAN_BGR, bgr_to_rgb=False,
        neck=dict(resize_mode='asymmetric'), head=dict(resize_mode='asymmetric'))


def _layer(table: NameTable, scope: str, conv: str, norm: Optional[str],
           bias: bool = False) -> None:
    table[f'{scope}/weights'] = (f'{conv}.weight', hwio_to_oihw)
    if bias:
        table[f'{scope}/biases'] = (f'{conv}.bias', None)
    if norm is not None:
        for tf_leaf, pt_leaf in _BN_LEAVES:
            table[f'{scope}/BatchNorm/{tf_leaf}'] = (f'{norm}.{pt_leaf}', None)


def tf_cpn_name_table(depth: int = 50) -> NameTable:
    """Every variable of a tf-cpn checkpoint -> (cpn_mm state_dict key, HWIO->OIHW or None)."""
    if depth not in RESNET_STAGE_BLOCKS:
        raise ValueError(f'`depth` must be one of {sorted(RESNET_STAGE_BLOCKS)}, got {depth!r}')
    table: NameTable = {}
    net = f'resnet_v1_{depth}'
    _layer(table, f'{net}/conv1', 'backbone.conv1', 'backbone.bn1')
    for b, units in enumerate(RESNET_STAGE_BLOCKS[depth], start=1):
        for u in range(units):
            scope = f'{net}/block{b}/unit_{u + 1}/bottleneck_v1'
            dst = f'backbone.layer{b}.{u}'
            for k in (1, 2, 3):
                _layer(table, f'{scope}/conv{k}', f'{dst}.conv{k}', f'{dst}.bn{k}')
            if u == 0:  # slim's projection shortcut where the depth changes
                _layer(table, f'{scope}/shortcut', f'{dst}.downsample.0', f'{dst}.downsample.1')
    for r in _LEVELS:
        i = r - 2
        _layer(table, f'lateral/res{r}', f'neck.lateral_convs.{i}.conv',
               f'neck.lateral_convs.{i}.bn')
        if r != _LEVELS[-1]:
            _layer(table, f'merge/res{r}', f'neck.merge_convs.{i}', None, bias=True)
        _layer(table, f'tmp/res{r}', f'neck.predict_layers.{i}.0.conv',
               f'neck.predict_layers.{i}.0.bn')
        _layer(table, f'pyramid/res{r}', f'neck.predict_layers.{i}.1.conv',
               f'neck.predict_layers.{i}.1.bn')
        for j in range(i):  # identity shortcuts (tf-cpn: "no projection")
            for k in (1, 2, 3):
                _layer(table, f'res{r}/refine_conv{j}/conv{k}',
                       f'head.level_blocks.{i}.{j}.conv{k}', f'head.level_blocks.{i}.{j}.bn{k}')
    for k in (1, 2, 3):
        _layer(table, f'final_bottleneck/conv{k}', f'head.final_block.conv{k}',
               f'head.final_block.bn{k}')
    _layer(table, 'final_bottleneck/shortcut', 'head.final_block.downsample.0',
           'head.final_block.downsample.1')
    _layer(table, 'refine_out', 'head.final_layer.conv', 'head.final_layer.bn')
    return table


def resolve_prefix(path: str) -> str:
    """The checkpoint prefix for ``path``: the prefix itself, one of its files
    (``.index``, ``.meta``, ``.data-*``) or a directory with a ``checkpoint`` state file."""
    if osp.isdir(path):
        state = osp.join(path, 'checkpoint')
        if osp.isfile(state):
            with open(state) as f:
                m = re.search(r'^model_checkpoint_path:\s*"(.+)"', f.read(), re.M)
            if m:
                prefix = m.group(1)
                return prefix if osp.isabs(prefix) else osp.join(path, prefix)
        indexes = sorted(glob.glob(osp.join(path, '*.index')))
        if len(indexes) == 1:
            return indexes[0][:-len('.index')]
        raise CheckpointConversionError(
            f'{path} is a directory without a TF `checkpoint` state file and with '
            f'{len(indexes)} *.index files: give the checkpoint prefix, e.g. '
            f'{osp.join(path, "snapshot_350.ckpt")}')
    prefix = re.sub(r'\.(index|meta|data-\d{5}-of-\d{5})$', '', path)
    if not osp.isfile(prefix + '.index'):
        raise CheckpointConversionError(
            f'no TF checkpoint at {path}: expected {prefix}.index and {prefix}.data-* (give '
            'the prefix, e.g. model_dump/snapshot_350.ckpt, without .index/.data-*)')
    return prefix


def read_tf_checkpoint(prefix: str) -> Dict[str, np.ndarray]:
    """All variables of a TF checkpoint as ``{name: array}``, read with TensorFlow."""
    # Loading triton (torch._dynamo imports it; torchvision and MMPose import torch._dynamo)
    # after TensorFlow crashes the process (measured with tensorflow-cpu 2.21 and torch 2.14),
    # the other order works: load the torch stack first.
    import torchvision  # noqa: F401
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError(
            'converting tf-cpn checkpoints needs TensorFlow: pip install -r '
            f'requirements/convert.txt (tensorflow-cpu) ({e})') from e
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = sorted(reader.get_variable_to_shape_map())
        return {name: reader.get_tensor(name) for name in names}
    except Exception as e:  # OpError, IndexError ("Read less bytes"), ValueError, ...
        msg = getattr(e, 'message', None) or str(e)
        raise CheckpointConversionError(
            f'cannot read TF checkpoint {prefix} (truncated, corrupt or not a TF checkpoint?): '
            f'{type(e).__name__}: {msg.strip().splitlines()[0] if msg.strip() else "-"}') from e


def convert_tf_cpn(src: str,
                   dst: str,
                   model_cfg: Optional[dict] = None,
                   config: Optional[str] = None) -> Tuple[str, dict]:
    """Convert a tf-cpn checkpoint to an MMEngine checkpoint for cpn_mm.

    Args:
        src (str): The checkpoint prefix (``.../snapshot_350.ckpt``), one of its files, or a
            directory with a ``checkpoint`` state file
        dst (str): The output ``.pth`` (written atomically, only if everything maps)
        model_cfg (dict, optional): The target model; default :func:`tf_cpn_model_cfg` for
            the depth and keypoint count found in the checkpoint
        config (str, optional): A config file whose ``model`` is the target (``--config``)

    Returns:
        tuple: The output path and the checkpoint's ``meta``.

    Raises:
        CheckpointConversionError: unreadable file, unmapped or missing variables, shape
            mismatches (all listed); nothing is written then.
    """
    prefix = resolve_prefix(src)
    arrays = read_tf_checkpoint(prefix)
    if '_CHECKPOINTABLE_OBJECT_GRAPH' in arrays:
        raise CheckpointConversionError(
            f'{prefix} is a TF2 object-based checkpoint (tf.train.Checkpoint), not a tf-cpn '
            'name-based checkpoint (tf.compat.v1.train.Saver)')
    ignored = sorted(n for n in arrays if _IGNORED.search(n))
    nets = sorted({m.group(1) for n in arrays for m in [re.match(r'resnet_v1_(\d+)/', n)] if m})
    if len(nets) != 1:
        raise CheckpointConversionError(
            f'cannot convert {prefix}: expected the variables of one tf-cpn backbone '
            f'(resnet_v1_50/... or resnet_v1_101/...), found backbone scopes {nets or "none"} '
            f'among {len(arrays)} variables (first: {sorted(arrays)[:5]}): not a tf-cpn '
            'checkpoint?')
    units = {int(m.group(1)) for n in arrays
             for m in [re.match(r'resnet_v1_\d+/block3/unit_(\d+)/', n)] if m}
    depth = depth_from_stage3_units(max(units) if units else 0, prefix)
    if str(depth) != nets[0]:
        raise CheckpointConversionError(
            f'{prefix}: scope resnet_v1_{nets[0]} has {max(units)} units in block3, which is '
            f'ResNet-{depth}')
    if model_cfg is None:
        if config is not None:
            model_cfg = model_cfg_from_config(config)
        else:
            out = arrays.get('refine_out/weights')
            num_keypoints = int(out.shape[-1]) if out is not None and out.ndim == 4 else 17
            model_cfg = tf_cpn_model_cfg(depth, num_keypoints)
    target = build_target_state(model_cfg)
    table = tf_cpn_name_table(depth)
    state = map_state(prefix, arrays, table, target, ignored, layout_note=' (source HWIO)')
    files = [prefix + '.index'] + sorted(glob.glob(glob.escape(prefix) + '.data-*'))
    meta = dict(
        converted_from=osp.abspath(prefix),
        source_format=FORMAT,
        source_files=file_digests(files),
        converter='cpn_mm.converters.convert_tf_cpn (tools/model_converters/tf_cpn2mmpose.py)',
        source_variables=len(table),
        ignored_variables=len(ignored))
    dataset_meta = coco_dataset_meta(state)
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    return save_checkpoint(state, meta, dst), meta

