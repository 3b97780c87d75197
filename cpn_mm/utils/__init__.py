# Copyright (c) cpn_mm authors. All rights reserved.
from .errors import InputError, check_file
from .launch import adapt_to_device, load_mmpose_tool, run_mmpose_tool, slurm_to_torch_env
from .malloc import keep_freed_memory, release_freed_memory
from .safe_load import allow_mmengine_checkpoints, mmengine_checkpoint_globals

__all__ = [
    'adapt_to_device', 'load_mmpose_tool', 'run_mmpose_tool', 'slurm_to_torch_env',
    'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals', 'keep_freed_memory',
    'release_freed_memory', 'InputError', 'check_file'
]
