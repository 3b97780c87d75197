# Copyright (c) cpn_mm authors. All rights reserved.
import functools
import warnings

import torch
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from torch import Tensor

from cpn_mm.utils.precision import autocast, parse_dtype, precision_note, to_float32


@functools.lru_cache(maxsize=None)
def float32_output_class(cls: type) -> type:
    """A subclass of the head class ``cls`` whose ``forward`` returns float32 tensors.

    Under autocast a head's last convolution returns bfloat16/float16; with this class the
    flip-test average, decoding (which converts to NumPy) and the losses read float32. For
    float32 outputs it adds no operation. Same name, parameters and state dict as ``cls``.
    """

    class Float32Output(cls):

        def forward(self, *args, **kwargs):
            return to_float32(super().forward(*args, **kwargs))

    Float32Output.__name__ = cls.__name__
    Float32Output.__qualname__ = cls.__qualname__
    Float32Output.__module__ = cls.__module__
    Float32Output.__doc__ = cls.__doc__
    return Float32Output


@MODELS.register_module()
class MixedPrecisionTopdownPoseEstimator(TopdownPoseEstimator):
    """MMPose's ``TopdownPoseEstimator`` with a test-time precision, ``test_cfg.dtype``.

    ``test_cfg.dtype='bfloat16'`` (or ``'float16'`` on CUDA) runs ``predict`` (backbone, neck
    and head, with flip test) under ``torch.autocast`` on the inputs' device; ``'float32'``
    (the default) changes nothing. Whatever the precision, the head's ``forward`` returns
    float32 (see :func:`float32_output_class`): the flip-test average and the codec's decoding
    read float32 heatmaps, and so do the losses when training runs under autocast (``--amp``,
    :class:`cpn_mm.engine.CPUAmpOptimWrapper`). Any MMPose top-down head works.

    ``test_cfg.dtype`` is read at every ``predict`` call: setting
    ``model.test_cfg['dtype']`` after building switches the precision.

    Example::

        model = dict(type='MixedPrecisionTopdownPoseEstimator', ...,
                     test_cfg=dict(flip_test=True, dtype='bfloat16'))

    Args:
        Those of ``TopdownPoseEstimator``; ``test_cfg`` may hold ``dtype``: ``'float32'``,
        ``'bfloat16'`` or ``'float16'`` (also ``'fp32'``, ``'bf16'``, ``'fp16'``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        parse_dtype(self.test_cfg.get('dtype'), 'test_cfg.dtype')  # fail at build, not at test
        if self.with_head:
            self.head.__class__ = float32_output_class(type(self.head))
        self._noted = False

    @property
    def test_dtype(self) -> torch.dtype:
        """The precision of ``predict``, from ``test_cfg.dtype``."""
        return parse_dtype(self.test_cfg.get('dtype'), 'test_cfg.dtype')

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """``TopdownPoseEstimator.predict`` under autocast to ``test_cfg.dtype``.

        Args:
            inputs (Tensor): Crops (N, C, H, W) after the data preprocessor, float32
            data_samples (list[PoseDataSample]): The batch's data samples

        Returns:
            list[PoseDataSample]: With ``pred_instances.keypoints`` (1, K, 2) in the input
            image's pixels and ``keypoint_scores`` (1, K), decoded from float32 heatmaps.
        """
        dtype = self.test_dtype
        note = precision_note(dtype, inputs.device.type)
        if note and not self._noted:
            warnings.warn(f'test_cfg.dtype={dtype}: {note}')
            self._noted = True
        with autocast(inputs.device.type, dtype):
            return super().predict(inputs, data_samples)
