# Copyright (c) cpn_mm authors. All rights reserved.
"""What the checkpoint converters share: the target model's state, the checks, the writing."""
import datetime
import hashlib
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

# one source variable: (target key in the model's state_dict, transform of the source array)
Transform = Optional[Callable[[np.ndarray], np.ndarray]]
NameTable = Dict[str, Tuple[str, Transform]]

# resnet depth -> units per stage (MMPose's ResNet.arch_settings for the bottleneck ResNets)
RESNET_STAGE_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class CheckpointConversionError(ValueError):
    """A source checkpoint that cannot be converted; the message says what is wrong."""


def source_model_cfg(depth: int, num_keypoints: int, norm_cfg: dict, mean: Sequence[float],
                     bgr_to_rgb: bool, neck: dict, head: dict) -> dict:
    """A ResNet-``depth`` CPN model config with a source's input normalisation
    (``(pixel - mean) / 255``, channel order by ``bgr_to_rgb``), norm layers and the neck/head
    options in ``neck`` / ``head``."""
    return dict(
        type='MixedPrecisionTopdownPoseEstimator',  # as the configs: + test_cfg.dtype
        data_preprocessor=dict(
            type='PoseDataPreprocessor', mean=list(mean), std=[255.] * 3, bgr_to_rgb=bgr_to_rgb),
        backbone=dict(
            type='ResNet', depth=depth, out_indices=(0, 1, 2, 3),
            norm_cfg=dict(norm_cfg, requires_grad=True)),
        neck=dict(
            type='CPNGlobalNet', in_channels=(256, 512, 1024, 2048), out_channels=256,
            num_keypoints=num_keypoints, norm_cfg=norm_cfg, **neck),
        head=dict(
            type='CPNRefineHead', in_channels=256, num_levels=4, num_keypoints=num_keypoints,
            norm_cfg=norm_cfg, **head))


def hwio_to_oihw(array: np.ndarray) -> np.ndarray:
    """TF conv kernel (kH, kW, C_in, C_out) -> PyTorch (C_out, C_in, kH, kW)."""
    return np.ascontiguousarray(array.transpose(3, 2, 0, 1))


def depth_from_stage3_units(units: int, source: str) -> int:
    """ResNet depth from the number of units in its third stage (6: 50, 23: 101, 36: 152)."""
    for depth, blocks in RESNET_STAGE_BLOCKS.items():
        if blocks[2] == units:
            return depth
    raise CheckpointConversionError(
        f'{source}: the backbone\'s third stage has {units} units; expected 6 (ResNet-50), '
        '23 (ResNet-101) or 36 (ResNet-152)')


def file_digests(paths: Sequence[str]) -> Dict[str, str]:
    """``{file name: sha256}`` of the source files, for the converted checkpoint's meta."""
    digests = {}
    for path in paths:
        h = hashlib.sha256()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        digests[osp.basename(path)] = h.hexdigest()
    return digests


def build_target_state(model_cfg: Mapping) -> 'OrderedDict[str, torch.Tensor]':
    """The state_dict of the model ``model_cfg`` builds (without initialising weights)."""
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules

    import cpn_mm  # noqa: F401  (registers CPN's modules)
    register_all_modules(init_default_scope=False)
    model_cfg = dict(model_cfg)
    model_cfg.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(model_cfg)
    return model.state_dict()


def coco_dataset_meta(state: Mapping[str, torch.Tensor]) -> Optional[dict]:
    """The converted checkpoint's ``meta['dataset_meta']``: COCO's keypoint layout, which the
    authors trained on, exactly as MMEngine's runner saves it from a ``CocoDataset`` (MMPose's
    ``init_model`` and ``MMPoseInferencer`` read it there first). ``None`` when the model
    ``state`` predicts another number of keypoints than COCO's 17."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from cpn_mm.datasets import CPNCocoDataset
    meta = parse_pose_metainfo(dict(CPNCocoDataset.METAINFO))
    heatmaps = state.get('head.final_layer.conv.weight')  # (K, C, 1, 1)
    return meta if heatmaps is not None and len(heatmaps) == meta['num_keypoints'] else None


def _fmt(names: Sequence[str], limit: int = 40) -> str:
    names = list(names)
    more = f'\n    ... and {len(names) - limit} more' if len(names) > limit else ''
    return ''.join(f'\n    {n}' for n in names[:limit]) + more


def map_state(source: str,
              arrays: Mapping[str, np.ndarray],
              table: NameTable,
              target: Mapping[str, torch.Tensor],
              ignored: Sequence[str] = (),
              layout_note: str = '') -> 'OrderedDict[str, torch.Tensor]':
    """Map the source's arrays onto the target model's state_dict, or refuse.

    Every source name must be in ``table`` (or in ``ignored``), every table entry must be in the
    source, every target key except BN's ``num_batches_tracked`` must be filled, and every
    shape must match; otherwise :class:`CheckpointConversionError` lists all problems at once.

    Args:
        source (str): The source file, for messages
        arrays (dict): Source name -> array (only the names that are not ignored are read)
        table (dict): Source name -> (target key, transform or None)
        target (dict): The target model's state_dict (key -> tensor, for shapes and dtypes)
        ignored (Sequence[str]): Source names that are deliberately not converted
        layout_note (str): Appended to shape mismatch lines (e.g. the source's kernel layout)

    Returns:
        OrderedDict: The target state_dict with the source's values, in the target's order.
    """
    ignored = set(ignored)
    unmapped = sorted(n for n in arrays if n not in table and n not in ignored)
    missing = sorted(n for n in table if n not in arrays)
    bad_keys = sorted(k for k, _ in table.values() if k not in target)
    covered = {k for k, _ in table.values()}
    uncovered = sorted(k for k in target
                       if k not in covered and not k.endswith('num_batches_tracked'))
    out = OrderedDict((k, v.clone()) for k, v in target.items())
    mismatches = []
    for name, (key, transform) in table.items():
        if name not in arrays or key not in target:
            continue
        array = np.asarray(arrays[name])
        value = transform(array) if transform is not None else array
        if tuple(value.shape) != tuple(target[key].shape):
            mismatches.append(f'{name} {list(array.shape)} -> {key} expects '
                              f'{list(target[key].shape)}{layout_note}')
            continue
        out[key] = torch.from_numpy(np.ascontiguousarray(value)).to(target[key].dtype)
    problems = []
    if unmapped:
        problems.append(f'{len(unmapped)} source variable(s) with no place in the model '
                        f'(unmapped):{_fmt(unmapped)}')
    if missing:
        problems.append(f'{len(missing)} variable(s) the model needs are missing from the '
                        f'source:{_fmt(missing)}')
    if mismatches:
        problems.append(f'{len(mismatches)} shape mismatch(es):{_fmt(mismatches)}')
    if bad_keys or uncovered:
        problems.append('the target model does not have the layout this converter maps to '
                        f'(check --config): keys not in the model:{_fmt(bad_keys)}; model keys '
                        f'no source variable maps to:{_fmt(uncovered)}')
    if problems:
        raise CheckpointConversionError(f'cannot convert {source}:\n  ' + '\n  '.join(problems) +
                                        '\nnothing was written.')
    return out


def save_checkpoint(state_dict: Mapping[str, torch.Tensor], meta: dict, dst: str) -> str:
    """Write an MMEngine checkpoint ``{'meta', 'state_dict'}`` to ``dst`` atomically.

    The file is written next to ``dst`` under a temporary name and renamed into place, so
    ``dst`` is either the complete new checkpoint or untouched (never half-written).
    """
    from cpn_mm import __version__
    meta = dict(meta)
    meta.setdefault('cpn_mm_version', __version__)
    meta.setdefault('time', datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ'))
    dst = osp.abspath(dst)
    if osp.isdir(dst):
        raise CheckpointConversionError(f'output path {dst} is a directory; give a file name '
                                        'such as cpn_r50_coco_256x192.pth')
    os.makedirs(osp.dirname(dst), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(dst)}.', suffix='.part',
                               dir=osp.dirname(dst))
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save({'meta': meta, 'state_dict': OrderedDict(state_dict)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return dst


def model_cfg_from_config(config: str) -> dict:
    """The ``model`` dict of an MMEngine config file (for ``--config``)."""
    from mmengine.config import Config
    if not osp.isfile(config):
        raise CheckpointConversionError(f'--config: no such config file {config}')
    return Config.fromfile(config).model.to_dict()
