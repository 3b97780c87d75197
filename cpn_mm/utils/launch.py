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
    """Adapt a merged config to a machine without CUDA. With CUDA nothing changes.

    - Distributed runs (``--launcher pytorch``) use gloo on the CPU: MMEngine 0.10.7 would call
      ``torch.cuda.set_device`` and give DDP ``device_ids``; instead the gloo process group is
      initialised here (from torchrun's environment) and the model is wrapped by
      :class:`cpn_mm.engine.CPUDistributedDataParallel`.
    - ``--amp`` (``optim_wrapper.type='AmpOptimWrapper'``, which refuses to run without an
      accelerator) becomes :class:`cpn_mm.engine.CPUAmpOptimWrapper`: bfloat16 autocast on the
      CPU, no loss scaling (``loss_scale`` is dropped). A model of type
      ``TopdownPoseEstimator`` becomes :class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`
      (same model; its head returns float32 so losses and accuracy read float32).
    """
    if torch.cuda.is_available():
        return
    _cpu_amp(cfg)
    if cfg.get('launcher', 'none') != 'pytorch':
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


def _cpu_amp(cfg) -> None:
    """``AmpOptimWrapper`` -> ``CPUAmpOptimWrapper`` (bfloat16) where only a CPU exists."""
    from mmengine.device import get_device
    optim_wrapper = cfg.get('optim_wrapper', None)
    if optim_wrapper is None or get_device() != 'cpu':
        return
    kind = optim_wrapper.get('type', 'OptimWrapper')
    if not (kind == 'AmpOptimWrapper' or getattr(kind, '__name__', '') == 'AmpOptimWrapper'):
        return
    dtype = optim_wrapper.get('dtype', None) or 'bfloat16'
    if dtype not in ('bfloat16', 'bf16', torch.bfloat16):
        raise ValueError(f'--amp on the CPU trains in bfloat16: `optim_wrapper.dtype` must be '
                         f"'bfloat16' or None, got {dtype!r}")
    optim_wrapper.type = 'CPUAmpOptimWrapper'
    optim_wrapper.dtype = 'bfloat16'
    optim_wrapper.pop('loss_scale', None)
    if cfg.get('model', {}).get('type') == 'TopdownPoseEstimator':
        cfg.model.type = 'MixedPrecisionTopdownPoseEstimator'
