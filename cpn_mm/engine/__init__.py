# Copyright (c) cpn_mm authors. All rights reserved.
from .cpu_distributed import CPUDistributedDataParallel
from .hooks import *  # noqa: F401,F403
from .optim_wrappers import *  # noqa: F401,F403

__all__ = ['CPUDistributedDataParallel']
