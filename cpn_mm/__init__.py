# Copyright (c) cpn_mm authors. All rights reserved.
"""cpn_mm: the Cascaded Pyramid Network (CPN) as an MMPose plugin.

Importing this package registers CPN's codec, dataset, neck, head, losses and inference
backends into MMPose's registries, so any MMPose config can use them through
``custom_imports = dict(imports=['cpn_mm'], allow_failed_imports=False)``.
"""
from .codecs import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .runtime import *  # noqa: F401,F403  (registers the inference backends)
from .utils import allow_mmengine_checkpoints
from .version import __version__
from .visualization import *  # noqa: F401,F403

allow_mmengine_checkpoints()

__all__ = ['__version__']
