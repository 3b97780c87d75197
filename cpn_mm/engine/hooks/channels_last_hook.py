# Copyright (c) cpn_mm authors. All rights reserved.
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Stores the model's 4-D parameters and buffers in ``torch.channels_last``.

    Convolutions with channels-last weights return channels-last activations (oneDNN on the CPU,
    cuDNN on the GPU), so the whole backbone, GlobalNet and RefineNet then run in NHWC without
    touching the data pipeline. The maths is unchanged: same parameters, same outputs and
    float32 gradients to float rounding (against float64: within 7e-5 of the gradients' scale,
    as contiguous). The kernels round differently, so a pre-activation within rounding of zero
    can take the other ReLU branch than in a contiguous run, which changes a gradient by one
    summand (of the order of 1e-2 of it); long runs drift apart as any two float32 runs with
    different kernels do. On GPUs it is the layout that AMP on tensor cores prefers.
    ``benchmarks/run.py --memory-format`` measures the effect.

    The conversion runs before training, validation and testing, after the weights are
    initialised, loaded or resumed; checkpoints hold the same values and load into a model of
    either layout. Under ``DistributedDataParallel`` the model is already wrapped; DDP then
    copies each gradient into its (contiguous) buckets, which is correct but costs a copy.

    Example::

        custom_hooks = [dict(type='ChannelsLastHook')]
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _convert(runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.to(memory_format=torch.channels_last)

    def before_train(self, runner) -> None:
        self._convert(runner)

    def before_val(self, runner) -> None:
        self._convert(runner)

    def before_test(self, runner) -> None:
        self._convert(runner)
