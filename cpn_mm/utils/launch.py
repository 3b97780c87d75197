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
    """Without CUDA, distributed runs (``--launcher pytorch``) use gloo on the CPU.

    MMEngine 0.10.7 would call ``torch.cuda.set_device`` and give DDP ``device_ids``: instead
    the gloo process group is initialised here (from torchrun's environment) and the model is
    wrapped by :class:`cpn_mm.engine.CPUDistributedDataParallel`. With CUDA nothing changes.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend=dist_cfg['backend'])
