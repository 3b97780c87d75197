# Copyright (c) cpn_mm authors. All rights reserved.
import warnings
from typing import Union

import torch
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from torch import Tensor, nn

from cpn_mm.utils.errors import InputError
from cpn_mm.utils.precision import autocast, dtype_name, parse_dtype, precision_note


@MODELS.register_module()
class MixedPrecisionTopdownPoseEstimator(TopdownPoseEstimator):
    """MMPose's ``TopdownPoseEstimator`` whose ``predict`` runs under autocast to
    ``test_cfg.dtype``.

    ``test_cfg.dtype='bfloat16'`` (or ``'float16'`` on CUDA) runs ``predict`` (backbone, neck
    and head, with flip test) under ``torch.autocast`` on the inputs' device; ``'float32'``
    (the default) changes nothing. Nothing else differs from ``TopdownPoseEstimator``: the
    head decides what leaves it in which dtype. :class:`cpn_mm.models.CPNRefineHead` casts its
    heatmaps to float32 before the flip average and decoding, and CPN's losses compute in
    float32 (also under ``--amp``); a head whose decoding cannot read bfloat16 needs the same
    cast in its ``predict``.

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
            image's pixels and ``keypoint_scores`` (1, K).
        """
        dtype = self.test_dtype
        note = precision_note(dtype, inputs.device.type)
        if note and not self._noted:
            warnings.warn(f'test_cfg.dtype={dtype}: {note}')
            self._noted = True
        with autocast(inputs.device.type, dtype):
            return super().predict(inputs, data_samples)


def set_inference_dtype(model: nn.Module, dtype: Union[str, torch.dtype]) -> None:
    """Set ``model.test_cfg['dtype']``: the precision of every later ``test_step``/``predict``
    (test tools, demo, ``MMPoseInferencer``).

    Raises:
        InputError: if ``dtype`` is unknown or the model cannot honour it (not a
            :class:`MixedPrecisionTopdownPoseEstimator`).
    """
    dtype = parse_dtype(dtype, 'dtype')
    if dtype != torch.float32 and not isinstance(model, MixedPrecisionTopdownPoseEstimator):
        raise InputError(f'`dtype` {dtype}: the model is a {type(model).__name__}; set the '
                         "config's model.type='MixedPrecisionTopdownPoseEstimator'")
    model.test_cfg['dtype'] = dtype_name(dtype)
