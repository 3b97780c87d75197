# Copyright (c) cpn_mm authors. All rights reserved.
"""Converters from the authors' CPN checkpoints (tf-cpn, pytorch-cpn) to MMEngine checkpoints.

The command lines are ``tools/model_converters/tf_cpn2mmpose.py`` and
``tools/model_converters/pytorch_cpn2mmpose.py``; see ``docs/converted_models.md``.
"""
from .common import CheckpointConversionError, hwio_to_oihw, save_checkpoint
from .pytorch_cpn import (PYTORCH_CPN_MEAN_RGB, convert_pytorch_cpn, pytorch_cpn_model_cfg,
                          pytorch_cpn_name_table, read_pytorch_cpn)
from .tf_cpn import (TF1_FUSED_BN_EPS, TF_CPN_MEAN_BGR, convert_tf_cpn, read_tf_checkpoint,
                     tf_cpn_model_cfg, tf_cpn_name_table)

__all__ = [
    'CheckpointConversionError', 'hwio_to_oihw', 'save_checkpoint', 'convert_tf_cpn',
    'convert_pytorch_cpn', 'tf_cpn_model_cfg', 'pytorch_cpn_model_cfg', 'tf_cpn_name_table',
    'pytorch_cpn_name_table', 'read_tf_checkpoint', 'read_pytorch_cpn', 'TF1_FUSED_BN_EPS',
    'TF_CPN_MEAN_BGR', 'PYTORCH_CPN_MEAN_RGB'
]
