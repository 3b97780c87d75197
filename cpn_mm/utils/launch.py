# Copyright (c) cpn_mm authors. All rights reserved.
"""Helpers of ``tools/train.py`` and ``tools/test.py``: they reuse MMPose's own command lines."""
import importlib.util
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from types import ModuleType
from typing import Callable, MutableMapping, Optional, Sequence

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


def run_mmpose_tool(name: str, check_args: Optional[Callable] = None,
                    adapt_cfg: Optional[Callable] = None,
                    argv: Optional[Sequence[str]] = None) -> None:
    """Run MMPose's ``tools/<name>.py`` (``'train'`` or ``'test'``) as a command line, its config
    merge extended by :func:`adapt_to_device`.

    Args:
        name (str): The tool
        check_args (callable, optional): Called with the parsed arguments before the config is
            merged; it raises ``SystemExit`` with a message for bad arguments.
        adapt_cfg (callable, optional): Called with the merged config, to change it in place
        argv (sequence of str, optional): The tool's arguments; default ``sys.argv[1:]``
    """
    tool = load_mmpose_tool(name)
    mmpose_merge_args = tool.merge_args

    def merge_args(cfg, args):
        if check_args is not None:
            check_args(args)
        cfg = mmpose_merge_args(cfg, args)
        adapt_to_device(cfg)
        if adapt_cfg is not None:
            adapt_cfg(cfg)
        return cfg

    tool.merge_args = merge_args
    if argv is None:
        tool.main()
        return
    saved = sys.argv
    sys.argv = [saved[0] if saved else name, *argv]  # MMPose's parser reads sys.argv
    try:
        tool.main()
    finally:
        sys.argv = saved


def first_slurm_host(node_list: str) -> str:
    """The first host of a Slurm node list, e.g. ``'gpu[07-09,12],cpu1'`` -> ``'gpu07'``
    (what ``scontrol show hostname`` prints first)."""
    match = re.match(r'([^,\[]*)(?:\[([^-,\]]*))?', node_list)
    return match.group(1) + (match.group(2) or '')


def slurm_to_torch_env(environ: Optional[MutableMapping[str, str]] = None) -> None:
    """Set torch.distributed's variables from Slurm's, as MMEngine's slurm launcher does.

    ``RANK`` = ``SLURM_PROCID``, ``WORLD_SIZE`` = ``SLURM_NTASKS``, ``LOCAL_RANK`` =
    ``SLURM_LOCALID``; ``MASTER_ADDR`` (unless set) is the first host of ``SLURM_NODELIST``
    (``scontrol show hostname``, or the list's first entry where ``scontrol`` is missing);
    ``MASTER_PORT`` defaults to 29500.

    Raises:
        KeyError: naming the Slurm variable that is missing (the process was not started by
            ``srun``).
    """
    env = os.environ if environ is None else environ
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        if name not in env:
            raise KeyError(f'--launcher slurm needs the variable {name}, which srun sets: start '
                           'the job with tools/slurm_train.sh / slurm_test.sh (srun)')
    node_list = env['SLURM_NODELIST']
    if 'MASTER_ADDR' not in env:
        addr = ''
        if shutil.which('scontrol'):
            addr = subprocess.run(['scontrol', 'show', 'hostname', node_list],
                                  capture_output=True, text=True).stdout.split('\n')[0].strip()
        env['MASTER_ADDR'] = addr or first_slurm_host(node_list)
    env.setdefault('MASTER_PORT', '29500')
    env['RANK'] = env['SLURM_PROCID']
    env['WORLD_SIZE'] = env['SLURM_NTASKS']
    env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')


def adapt_to_device(cfg) -> None:
    """Adapt a merged config to a machine without CUDA. With CUDA nothing changes.

    - Distributed runs (``--launcher pytorch`` with torchrun's variables, ``--launcher slurm``
      with Slurm's, mapped by :func:`slurm_to_torch_env`) use gloo on the CPU: MMEngine 0.10.7
      would call ``torch.cuda.set_device`` and give DDP ``device_ids``; instead the gloo process
      group is initialised here and the model is wrapped by
      :class:`cpn_mm.engine.CPUDistributedDataParallel`.
    - ``--amp`` (``optim_wrapper.type='AmpOptimWrapper'``, which refuses to run without an
      accelerator) becomes :class:`cpn_mm.engine.CPUAmpOptimWrapper`: bfloat16 autocast on the
      CPU, no loss scaling (``loss_scale`` is dropped). The model is unchanged: CPN's losses
      and accuracy read float32 whatever the forward's precision.
    """
    if torch.cuda.is_available():
        return
    _cpu_amp(cfg)
    launcher = cfg.get('launcher', 'none')
    if launcher not in ('pytorch', 'slurm'):
        return
    if launcher == 'slurm':
        slurm_to_torch_env()
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
