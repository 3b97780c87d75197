# Copyright (c) cpn_mm authors. All rights reserved.
"""What every non-PyTorch inference backend shares: it stands in for a top-down model.

A backend computes only the heatmaps of preprocessed crops; the data preprocessor, the flip
test and the decoding are the PyTorch model's, so every backend decodes exactly as PyTorch does.
"""
from typing import List

import torch
from torch import Tensor, nn


class HeatmapBackend:
    """Base class of the inference backends (:class:`cpn_mm.apis.OnnxRuntimeBackend`,
    :class:`cpn_mm.apis.OpenVINOBackend`): a model whose heatmaps come from elsewhere.

    It stands in for the PyTorch model wherever MMPose or MMEngine run one:
    ``mmpose.apis.inference_topdown(backend, img, bboxes)`` reads ``cfg`` and ``dataset_meta``
    and calls ``test_step``; MMEngine's test loop (through
    :class:`cpn_mm.engine.InferenceBackendHook`) calls ``eval`` and ``test_step``.

    ``test_step(batch)`` takes what ``model.test_step`` takes and returns the same: the model's
    data preprocessor, :meth:`heatmaps` of the crops (and of the flipped crops with
    ``test_cfg.flip_test``, flipped back with MMPose's ``flip_heatmaps`` and averaged, as
    :class:`cpn_mm.models.CPNRefineHead` does), the head's ``decode`` and
    ``add_pred_to_datasample`` (keypoints in image pixels).

    Args:
        model (nn.Module): The PyTorch model the backend's graph was made from (config,
            preprocessor, codec)
    """

    #: short name of the backend, as :func:`cpn_mm.apis.build_runtime` calls it
    name = 'base'

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    @property
    def cfg(self):
        """The model's config (its test pipeline), as ``inference_topdown`` reads it."""
        return self.model.cfg

    @property
    def dataset_meta(self) -> dict:
        """The model's dataset meta information (``flip_indices``...)."""
        return self.model.dataset_meta

    @property
    def test_cfg(self) -> dict:
        """The model's ``test_cfg`` (``flip_test``...)."""
        return self.model.test_cfg

    def eval(self) -> 'HeatmapBackend':
        """Nothing to switch (MMEngine's test loop calls it); returns ``self``."""
        return self

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) float32 on the CPU of preprocessed crops (B, 3, h, w)."""
        raise NotImplementedError

    def test_step(self, batch: dict) -> List:
        """``model.test_step`` with the heatmaps from :meth:`heatmaps`."""
        from mmpose.models.utils.tta import flip_heatmaps
        model = self.model
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        cfg = model.test_cfg
        heatmaps = self.heatmaps(inputs)
        if cfg.get('flip_test', False):
            flipped = flip_heatmaps(
                self.heatmaps(inputs.flip(-1)),
                flip_mode=cfg.get('flip_mode', 'heatmap'),
                flip_indices=samples[0].metainfo['flip_indices'],
                shift_heatmap=cfg.get('shift_heatmap', False))
            heatmaps = (heatmaps + flipped) * 0.5
        preds = model.head.decode(heatmaps)
        return model.add_pred_to_datasample(preds, None, samples)

    @staticmethod
    def as_numpy(inputs: Tensor):
        """``inputs`` as a contiguous float32 NumPy array (what the runtimes read)."""
        return inputs.detach().to('cpu', torch.float32).contiguous().numpy()
