# Copyright (c) cpn_mm authors. All rights reserved.
"""What every inference backend shares: a pose model (an MMEngine ``BaseModel``) whose
heatmaps come from elsewhere.

A backend computes only the heatmaps of preprocessed crops; the data preprocessor, the flip
test (:func:`cpn_mm.models.utils.flip_average`, the head's own) and the decoding are the
PyTorch model's, so every backend decodes exactly as PyTorch does.
"""
from typing import List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from torch import Tensor, nn

from cpn_mm.models.utils import flip_average


class HeatmapBackend(BaseModel):
    """Base class of the inference backends (:class:`cpn_mm.runtime.OnnxRuntimeBackend`,
    :class:`cpn_mm.runtime.OpenVINOBackend`, :class:`cpn_mm.runtime.TorchCompileBackend`).

    It is a model like the PyTorch one (as MMDeploy's ``End2EndModel``): MMEngine's test loop
    runs it as the runner's model (built from a config by
    :func:`cpn_mm.runtime.runtime_config`), and ``mmpose.apis.inference_topdown(backend, img,
    bboxes)`` reads its ``cfg`` and ``dataset_meta`` and calls ``test_step``.
    ``test_step(batch)`` (``BaseModel``'s) takes and returns what the pose model's does: the
    model's data preprocessor, then :meth:`predict`: :meth:`heatmaps` of the crops (and of the
    mirrored crops with ``test_cfg.flip_test``, averaged in float32 by
    :func:`cpn_mm.models.utils.flip_average`), the head's ``decode`` and
    ``add_pred_to_datasample`` (keypoints in image pixels).

    The pose model is the submodule :attr:`model`; a checkpoint of the pose model (keys
    ``backbone.*``, ``neck.*``, ``head.*``, as training saves them) loads into it, so a
    runner's ``load_from`` reads the same checkpoints with or without a backend.

    Args:
        model (nn.Module | dict): The PyTorch pose model the backend's graph is made from
            (config, preprocessor, codec), or its config (then built, as by a runner)
    """

    #: short name of the backend, as :func:`cpn_mm.runtime.build_runtime` calls it
    name = 'base'

    def __init__(self, model: Union[nn.Module, dict]) -> None:
        self.built_from_config = isinstance(model, dict)
        if self.built_from_config:
            model = MODELS.build(model)
        super().__init__(data_preprocessor=model.data_preprocessor)
        self.model = model
        self._announced = False

    @property
    def cfg(self):
        """The model's config (its test pipeline), as ``inference_topdown`` reads it."""
        return self.model.cfg

    @property
    def dataset_meta(self) -> Optional[dict]:
        """The model's dataset meta information (``flip_indices``...)."""
        return getattr(self.model, 'dataset_meta', None)

    @dataset_meta.setter
    def dataset_meta(self, meta: Optional[dict]) -> None:
        self.model.dataset_meta = meta

    @property
    def test_cfg(self) -> dict:
        """The model's ``test_cfg`` (``flip_test``, ``dtype``...)."""
        return self.model.test_cfg

    @property
    def runtime_name(self) -> str:
        """What runs, e.g. ``'onnxruntime (int8)'``, for logs and the demo's timing line."""
        return self.name

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) of preprocessed crops (B, 3, h, w) float32 (any floating
        dtype: :meth:`predict` reads them in float32)."""
        raise NotImplementedError

    def forward(self, inputs: Tensor, data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[Tensor, List]:
        """``mode='tensor'``: :meth:`heatmaps` (B, K, H, W); ``'predict'``: :meth:`predict`."""
        if mode == 'tensor':
            return self.heatmaps(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'{type(self).__name__} runs inference only: `mode` must be '
                         f"'predict' or 'tensor', got {mode!r}")

    def predict(self, inputs: Tensor, data_samples: list) -> list:
        """The pose model's ``predict`` with the heatmaps of :meth:`heatmaps`.

        Args:
            inputs (Tensor): Crops (N, 3, h, w) after the data preprocessor, float32
            data_samples (list[PoseDataSample]): The batch's data samples

        Returns:
            list[PoseDataSample]: With ``pred_instances.keypoints`` (1, K, 2) in the input
            image's pixels and ``keypoint_scores`` (1, K).
        """
        cfg = self.test_cfg
        heatmaps = self.heatmaps(inputs)
        if self.built_from_config and not self._announced:  # a runner's model: say what runs
            print_log(f'inference through {self.runtime_name}', logger='current')
            self._announced = True
        if cfg.get('flip_test', False):
            heatmaps = flip_average(heatmaps, self.heatmaps(inputs.flip(-1)),
                                    data_samples[0].metainfo['flip_indices'], cfg)
        preds = self.model.head.decode(heatmaps.float())
        return self.model.add_pred_to_datasample(preds, None, data_samples)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """A pose model's checkpoint (keys without ``model.``) loads into :attr:`model`."""
        for key in [k for k in state_dict
                    if k.startswith(prefix) and not k.startswith(prefix + 'model.')]:
            state_dict[prefix + 'model.' + key[len(prefix):]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @staticmethod
    def as_numpy(inputs: Tensor):
        """``inputs`` as a contiguous float32 NumPy array (what the runtimes read)."""
        return inputs.detach().to('cpu', torch.float32).contiguous().numpy()


__all__ = ['HeatmapBackend']
