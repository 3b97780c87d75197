# Copyright (c) cpn_mm authors. All rights reserved.
"""Helpers of ``tools/train.py`` and ``tools/test.py``: they reuse MMPose's own command lines."""
import importlib.util
import os.path as osp
from types import ModuleType

import torch


def load_mmpose_tool(name: str) -> ModuleType:
    """Import MMPose's ``tools/<name>.py`` (installed in ``mmpose/.mim/tools``) as a module."""
    import mmpose
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'MMPose\'s {name}.py is not installed at {path}: reinstall '
                                'mmpose==1.3.2 from its wheel (it ships .mim/tools)')
    spec = importlib.util.spec_from_file_location(f'mmpose_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def adapt_to_device(cfg) -> None:
    """Without CUDA, distributed runs use the gloo backend (nccl needs GPUs)."""
    if cfg.get('launcher', 'none') != 'none' and not torch.cuda.is_available():
        env_cfg = cfg.setdefault('env_cfg', {})
        dist_cfg = env_cfg.setdefault('dist_cfg', {})
        if dist_cfg.get('backend', 'nccl') == 'nccl':
            dist_cfg['backend'] = 'gloo'
