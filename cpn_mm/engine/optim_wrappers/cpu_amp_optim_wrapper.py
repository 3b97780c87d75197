# Copyright (c) cpn_mm authors. All rights reserved.
from contextlib import contextmanager
from typing import Iterator, Union

import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

from cpn_mm.utils.precision import cpu_bf16_support, parse_dtype, precision_note


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed-precision training on the CPU: the forward and the losses' inputs under
    ``torch.autocast('cpu', dtype=torch.bfloat16)``.

    MMEngine's ``AmpOptimWrapper`` needs CUDA/NPU/MLU (its ``GradScaler``). bfloat16 has
    float32's exponent range, so no loss scaling is needed: ``backward`` and ``step`` are
    plain :class:`mmengine.optim.OptimWrapper`'s. The runner calls ``optim_context`` around
    the data preprocessor and the model's ``loss``: convolutions and matrix products run in
    bfloat16, parameters, gradients and the optimizer state stay float32. With CPN, the losses
    are computed in float32 (``BaseHeatmapLoss``, the base of both CPN losses, casts the
    heatmaps; the OHKM ranking reads float32 losses) and the accuracy is computed on the
    refined heatmaps cast to float32.

    ``tools/train.py --amp`` selects it on machines without CUDA (see
    :func:`cpn_mm.utils.adapt_to_device`); on CUDA ``--amp`` keeps MMEngine's
    ``AmpOptimWrapper``. It logs once whether the CPU multiplies bfloat16 natively
    (AVX512-BF16 or AMX); without, bfloat16 is emulated and slower than float32.

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (the only CPU autocast type supported here).
            Defaults to ``'bfloat16'``
        **kwargs: Those of ``OptimWrapper`` (``optimizer``, ``accumulative_counts``,
            ``clip_grad``)

    Example::

        optim_wrapper = dict(type='CPUAmpOptimWrapper', dtype='bfloat16',
                             optimizer=dict(type='Adam', lr=5e-3))
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = parse_dtype(dtype, 'dtype')
        if self.cast_dtype != torch.bfloat16:
            raise ValueError(f"CPUAmpOptimWrapper: `dtype` must be 'bfloat16' on the CPU, got "
                             f'{dtype!r} (float16 would need loss scaling)')
        logger = MMLogger.get_current_instance()
        note = precision_note(self.cast_dtype, 'cpu')
        if note:
            logger.warning(f'CPUAmpOptimWrapper: {note}')
        else:
            logger.info('CPUAmpOptimWrapper: bfloat16 autocast on the CPU, native bfloat16 '
                        f'({cpu_bf16_support()})')

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """``OptimWrapper.optim_context`` (gradient accumulation) plus bfloat16 autocast."""
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
