# Copyright (c) cpn_mm authors. All rights reserved.
"""The golden fixtures (tests/data/golden): rebuild the source checkpoints in the sources' own
file formats and run converted models on the fixtures' inputs."""
import importlib.util
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch

from . import REPO

GOLDEN = osp.join(REPO, 'tests', 'data', 'golden')
TF_DIR = osp.join(GOLDEN, 'tf-cpn_r50_256x192')
PT_DIR = osp.join(GOLDEN, 'pytorch-cpn_r50_256x192')
TF_CONFIG = osp.join(REPO, 'configs', 'tf-cpn', 'tf-cpn_r50_coco_256x192.py')
PT_CONFIG = osp.join(REPO, 'configs', 'pytorch-cpn', 'pytorch-cpn_r50_coco_256x192.py')
# max |cpn_mm - original| <= REL_TOL * max |original| (thread/oneDNN noise measured <= 5e-6)
REL_TOL = 2e-5
# torch >= 2.4 checks what a checkpoint unpickles against an allow-list, which importing cpn_mm
# extends by the NumPy arrays of dataset_meta; torch < 2.4 allows no NumPy array (MMEngine loads
# with its default, weights_only=False)
SAFE_LOAD = hasattr(torch.serialization, 'add_safe_globals')


def _recipe():
    spec = importlib.util.spec_from_file_location('golden_recipe', osp.join(GOLDEN, 'recipe.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.recipe_value


def load_fixture(folder: str) -> Tuple[List, np.ndarray, Dict[str, np.ndarray], dict]:
    """(variables, input, outputs, meta) of one golden folder."""
    with open(osp.join(folder, 'variables.json')) as f:
        variables = json.load(f)
    with open(osp.join(folder, 'meta.json')) as f:
        meta = json.load(f)
    outputs = dict(np.load(osp.join(folder, 'outputs.npz')))
    return variables, np.load(osp.join(folder, 'input.npy')), outputs, meta


def recipe_arrays(folder: str, layout: str) -> 'OrderedDict[str, np.ndarray]':
    """``{name: array}`` of the source checkpoint, from variables.json and the recipe."""
    recipe_value = _recipe()
    variables, _, _, _ = load_fixture(folder)
    return OrderedDict((name, recipe_value(role, shape, seed=i, layout=layout))
                       for i, (name, shape, role) in enumerate(variables))


def require_tensorflow():
    """TensorFlow, or a failure saying how to install it (the tf-cpn tests never skip)."""
    import torchvision  # noqa: F401  (before TensorFlow: see cpn_mm.converters.tf_cpn)
    try:
        import tensorflow as tf
    except ImportError as e:  # pragma: no cover - CI installs it
        pytest.fail('the tf-cpn converter tests need TensorFlow: pip install -r '
                    f'requirements/convert.txt ({e})', pytrace=False)
    return tf


def write_tf_checkpoint(arrays: Dict[str, np.ndarray], prefix: str,
                        optimizer_slots: int = 3) -> str:
    """Write ``arrays`` as a TF1 name-based checkpoint (format V2) with TensorFlow's
    ``tf.compat.v1.train.Saver`` in graph mode, as tf-cpn's tfflat saver does; with what a
    training snapshot also holds: Adam slots of the first ``optimizer_slots`` variables, Adam's
    power accumulators, tfflat's learning-rate ``Variable`` and ``global_step``."""
    tf = require_tensorflow()
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        values = dict(arrays)
        for name in list(arrays)[:optimizer_slots]:
            values[f'{name}/Adam'] = np.zeros_like(arrays[name])
            values[f'{name}/Adam_1'] = np.zeros_like(arrays[name])
        values['beta1_power'] = np.float32(0.9**100)
        values['beta2_power'] = np.float32(0.999**100)
        values['Variable'] = np.float32(5e-4)
        values['global_step'] = np.int64(12345)
        var_list, feeds = {}, {}
        assigns = []
        for i, (name, value) in enumerate(values.items()):
            value = np.asarray(value)
            var = v1.Variable(tf.zeros(value.shape, dtype=value.dtype), name=f'v{i}')
            ph = v1.placeholder(value.dtype, shape=value.shape)
            assigns.append(v1.assign(var, ph))
            feeds[ph] = value
            var_list[name] = var
        saver = v1.train.Saver(var_list=var_list)
        with v1.Session(graph=graph) as sess:
            sess.run(assigns, feed_dict=feeds)
            return saver.save(sess, prefix, write_meta_graph=False)


def write_pytorch_cpn_file(arrays: Dict[str, np.ndarray], path: str, legacy: bool = False) -> str:
    """Write ``arrays`` as pytorch-cpn saves: ``torch.save({'epoch', 'state_dict',
    'optimizer'})`` of a DataParallel model (the keys already carry ``module.``); ``legacy``
    uses torch's pre-1.6 file format, as the 2018 files have."""
    state = OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v))) for k, v in arrays.items())
    params = [k for k, v in state.items() if v.dtype.is_floating_point
              and not k.endswith(('running_mean', 'running_var'))]
    optimizer = {
        'state': {0: {'step': 7, 'exp_avg': torch.zeros_like(state[params[0]]),
                      'exp_avg_sq': torch.zeros_like(state[params[0]])}},
        'param_groups': [{'lr': 5e-4, 'betas': (0.9, 0.999), 'eps': 1e-8, 'weight_decay': 1e-5,
                          'amsgrad': False, 'params': list(range(len(params)))}]
    }
    torch.save({'epoch': 32, 'state_dict': state, 'optimizer': optimizer}, path,
               _use_new_zipfile_serialization=not legacy)
    return path


def build_converted(config: str, checkpoint: str, bn_eps: float = None):
    """The config's model with the converted checkpoint loaded strictly, in eval mode."""
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config)
    if bn_eps is not None:
        for part in ('backbone', 'neck', 'head'):
            cfg.model[part].norm_cfg.eps = bn_eps
        if cfg.model.neck.get('merge_norm_cfg'):
            cfg.model.neck.merge_norm_cfg.eps = bn_eps
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval()


@torch.no_grad()
def run_converted(model, inputs: np.ndarray) -> Tuple[List[np.ndarray], np.ndarray]:
    """(GlobalNet heatmaps P2..P5, RefineNet heatmaps) for a preprocessed NCHW batch (the
    GlobalNet heatmaps asked for: inference alone skips them)."""
    feats = model.neck(model.backbone(torch.from_numpy(inputs)), with_heatmaps=True)
    refine = model.head.forward(feats)
    return [h.numpy() for h in feats[1]], refine.numpy()


def relative_errors(ours: Dict[str, np.ndarray], theirs: Dict[str, np.ndarray]) -> Dict[str, float]:
    """``max |ours - theirs| / max |theirs|`` per output."""
    return {k: float(np.abs(ours[k] - theirs[k]).max() / np.abs(theirs[k]).max()) for k in theirs}


def load_converted(dst: str, src: str, source_format: str, converter: str) -> dict:
    """The converted checkpoint at ``dst``, after checking what every converted file holds:
    ``state_dict`` and ``meta`` only, loadable with safe loading (``weights_only=True``, where
    torch has an allow-list), its provenance naming ``src``, the source's format and the
    converter function."""
    ckpt = torch.load(dst, map_location='cpu', weights_only=SAFE_LOAD)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta']['converted_from'] == osp.abspath(src)
    assert ckpt['meta']['source_format'].startswith(source_format)
    assert converter in ckpt['meta']['converter']
    return ckpt


def conversion_error(convert, src: str, dst: str) -> str:
    """The message of the ``CheckpointConversionError`` that ``convert(src, dst)`` must raise."""
    from cpn_mm.converters import CheckpointConversionError
    with pytest.raises(CheckpointConversionError) as info:
        convert(src, dst)
    return str(info.value)
