# Copyright (c) cpn_mm authors. All rights reserved.
"""Helpers of ``tools/train.py`` and ``tools/test.py``: they reuse MMPose's own command lines."""
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
from types import ModuleType
from typing import MutableMapping, Optional

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
        env['MASTER_ADDR'] = addr or node_list.split(',')[0].split('[')[0]
    env.setdefault('MASTER_PORT', '29500')
    env['RANK'] = env['SLURM_PROCID']
    env['WORLD_SIZE'] = env['SLURM_NTASKS']
    env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')


def adapt_to_device(cfg) -> None:
    """Use gloo on the CPU for distributed runs when there is no CUDA.

    For ``--launcher pytorch`` (torchrun's variables) and ``--launcher slurm`` (Slurm's
    variables, mapped by :func:`slurm_to_torch_env`), MMEngine 0.10.7 would call
    ``torch.cuda.set_device`` and give DDP ``device_ids``: instead the gloo process group is
    initialised here and the model is wrapped by
    :class:`cpn_mm.engine.CPUDistributedDataParallel`. With CUDA nothing changes.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
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
