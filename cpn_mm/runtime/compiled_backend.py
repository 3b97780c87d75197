# Copyright (c) cpn_mm authors. All rights reserved.
"""``torch.compile`` (Inductor) of the PyTorch model as an inference backend, with a fall-back.

:class:`TorchCompileBackend` compiles the model's heatmaps of preprocessed crops (what ONNX
exports, :class:`cpn_mm.runtime.export.HeatmapModule`) as two graphs, the model's
``extract_feat`` (backbone and neck) and its head's ``forward``, as the eager model calls them
(and as the ``benchmarks/run.py --only paths`` figures were taken); everything else (data
preprocessor, flip test, decoding) is the shared :class:`cpn_mm.runtime.HeatmapBackend`'s, so
keypoints are decoded exactly as without compilation. Nothing of the model is replaced: its
parameters, ``state_dict`` and checkpoints are the same objects;
``test_cfg.dtype='bfloat16'`` autocast is traced into the graphs.

Compilation happens at the first call of each input shape (a new batch size compiles again);
:attr:`TorchCompileBackend.compile_seconds` holds the time of those first calls. A model whose
compilation fails (no C++ compiler, an unsupported operator...) falls back to eager with one
warning, and stays eager.

With ``freezing=True`` (Inductor's ``freezing``: parameters folded as constants, convolution
weights pre-packed for oneDNN) the graph is only valid while the parameters do not change:
for inference. Freezing applies under ``torch.no_grad()`` (as in MMEngine's test loop and
``mmpose.apis.inference_topdown``).
"""
import logging
import time
import warnings
from typing import Callable, Dict, Optional, Union

import torch
from mmengine.logging import print_log
from mmpose.registry import MODELS
from torch import Tensor, nn

from cpn_mm.utils.precision import autocast, parse_dtype, precision_note
from .base import HeatmapBackend


def _autocast_cpu() -> bool:
    try:  # torch >= 2.4; is_autocast_cpu_enabled() is deprecated there
        return torch.is_autocast_enabled('cpu')
    except TypeError:
        return torch.is_autocast_cpu_enabled()


def _root_cause(e: BaseException) -> str:
    """``Type: first line`` of the error that Dynamo wraps (the backend's own)."""
    cause = e
    while (getattr(cause, 'inner_exception', None) or cause.__cause__) is not None:
        cause = getattr(cause, 'inner_exception', None) or cause.__cause__
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ''
    return f'{type(cause).__name__}: {reason}' + (
        '' if cause is e else f' (raised in {type(e).__name__})')


@MODELS.register_module()
class TorchCompileBackend(HeatmapBackend):
    """The PyTorch model's heatmaps through ``torch.compile`` (see the module).

    Args:
        model (nn.Module | dict): A top-down pose model (``extract_feat`` and ``head``) or its
            config
        freezing (bool): Inductor's ``freezing`` (inference only)
        mode (str, optional): ``torch.compile``'s ``mode`` (``None``, ``'max-autotune'``...)
        dynamic (bool, optional): ``torch.compile``'s ``dynamic``; ``False`` (default)
            compiles each batch size once, which is fastest for a fixed batch size
        backend (str | callable): ``torch.compile``'s ``backend``

    Attributes:
        compile_times (dict): (input shape, dtype, autocast) -> seconds of its first call
        failure (str | None): Why compilation failed (the model then runs eagerly)
    """

    name = 'pytorch (compiled)'

    def __init__(self, model: Union[nn.Module, dict], freezing: bool = True,
                 mode: Optional[str] = None, dynamic: Optional[bool] = False,
                 backend: Union[str, Callable] = 'inductor') -> None:
        super().__init__(model)
        options = dict(dynamic=dynamic, mode=mode, backend=backend)
        if freezing and backend == 'inductor':
            options['options'] = {'freezing': True}
        # two graphs, as the eager model runs them: backbone and neck, then the head
        self._features = torch.compile(self.model.extract_feat, **options)
        self._head = torch.compile(self.model.head.forward, **options)
        self.compile_times: Dict[tuple, float] = {}
        self.failure: Optional[str] = None
        self._noted = False

    def eager_heatmaps(self, inputs: Tensor) -> Tensor:
        """What is compiled: ``model.head.forward(model.extract_feat(inputs))``
        (:class:`cpn_mm.runtime.export.HeatmapModule`'s, what ONNX exports)."""
        return self.model.head.forward(self.model.extract_feat(inputs))

    @property
    def compile_seconds(self) -> float:
        """Seconds the first calls took (compilation included)."""
        return sum(self.compile_times.values())

    @property
    def runtime_name(self) -> str:
        dtype = self.test_cfg.get('dtype', 'float32')
        return f'pytorch ({dtype}, compiled' + (', fell back to eager)' if self.failure
                                                else ')')

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) of preprocessed crops (B, 3, h, w), under autocast to the
        model's ``test_cfg.dtype`` (bfloat16 heatmaps then; :meth:`predict` reads float32)."""
        dtype = parse_dtype(self.test_cfg.get('dtype'), 'test_cfg.dtype')
        note = precision_note(dtype, inputs.device.type)
        if note and not self._noted:
            warnings.warn(f'test_cfg.dtype={dtype}: {note}')
            self._noted = True
        with autocast(inputs.device.type, dtype):
            return self._call(inputs)

    def _call(self, inputs: Tensor) -> Tensor:
        if self.failure is not None:
            return self.eager_heatmaps(inputs)
        key = (tuple(inputs.shape), inputs.dtype, _autocast_cpu())
        first = key not in self.compile_times
        t0 = time.perf_counter()
        try:
            out = self._head(self._features(inputs))
        except Exception as e:  # torch._dynamo / Inductor raise many types
            if not first:
                raise
            self.failure = _root_cause(e)
            message = ('torch.compile of the heatmap graph failed, so the model runs eagerly: '
                       f'{self.failure}')
            warnings.warn(message)
            if self.built_from_config:
                print_log(message, logger='current', level=logging.WARNING)
            return self.eager_heatmaps(inputs)
        if first:
            self.compile_times[key] = time.perf_counter() - t0
            if self.built_from_config:
                print_log(f'torch.compile: first calls (compilation) took '
                          f'{self.compile_times[key]:.1f} s for crops {tuple(inputs.shape)}',
                          logger='current')
        return out


def compile_model(model: nn.Module, freezing: bool = True, mode: Optional[str] = None,
                  dynamic: Optional[bool] = False,
                  backend: Union[str, Callable] = 'inductor') -> TorchCompileBackend:
    """``model`` through ``torch.compile``: a :class:`TorchCompileBackend` (the arguments are
    its own), run as the model is (``test_step``, ``inference_topdown``)."""
    return TorchCompileBackend(model, freezing, mode, dynamic, backend)


def compile_seconds(runtime) -> float:
    """Seconds the first calls of a compiled runtime took (compilation included); 0 for any
    other runtime."""
    return runtime.compile_seconds if isinstance(runtime, TorchCompileBackend) else 0.


__all__ = ['TorchCompileBackend', 'compile_model', 'compile_seconds']
