# Copyright (c) cpn_mm authors. All rights reserved.
"""``torch.compile`` (Inductor) for the PyTorch inference path, with a fall-back.

:func:`compile_model` compiles a top-down model's ``extract_feat`` (backbone and neck) and its
head's ``forward`` in place, as two graphs: everything else (data preprocessor, flip test,
decoding) stays eager, so keypoints are decoded exactly as without compilation. The parameters,
``state_dict`` and checkpoints are the same objects; ``test_cfg.dtype='bfloat16'`` autocast
is traced into the graphs.

Compilation happens at the first call of each input shape (a new batch size compiles again);
:attr:`CompiledFunction.compile_seconds` holds the time of those first calls. A model whose
compilation fails (no C++ compiler, an unsupported operator...) falls back to eager with one
warning, and stays eager.

With ``freezing=True`` (Inductor's ``freezing``: parameters folded as constants, convolution
weights pre-packed for oneDNN) the graphs are only valid while the parameters do not change:
for inference. Freezing applies under ``torch.no_grad()`` (as in MMEngine's test loop and
``mmpose.apis.inference_topdown``).
"""
import time
import warnings
from typing import Callable, Dict, List, Optional, Union

import torch
from torch import nn


class CompiledFunction:
    """``fn`` compiled by ``torch.compile`` on first use; eager after a failure.

    Args:
        fn (callable): The eager function (a bound method)
        name (str): For the warning
        group (list): The model's compiled functions (this one is appended): a failure of one
            switches all of them to eager, with one warning
        options (dict): ``torch.compile`` keyword arguments
    """

    def __init__(self, fn: Callable, name: str, group: list, **options) -> None:
        self.eager = fn
        self.name = name
        self.compiled = torch.compile(fn, **options)
        self.failed: Optional[str] = None
        self.compile_seconds: Dict[tuple, float] = {}
        self.group = group
        group.append(self)

    def __call__(self, inputs, *args, **kwargs):
        if self.failed is not None:
            return self.eager(inputs, *args, **kwargs)
        key = _shape_key(inputs)
        first = key not in self.compile_seconds
        t0 = time.perf_counter()
        try:
            out = self.compiled(inputs, *args, **kwargs)
        except Exception as e:  # torch._dynamo / Inductor raise many types
            if not first:
                raise
            cause = e  # Dynamo wraps the backend's own error
            while (getattr(cause, 'inner_exception', None) or cause.__cause__) is not None:
                cause = getattr(cause, 'inner_exception', None) or cause.__cause__
            reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ''
            message = f'{type(cause).__name__}: {reason}' + (
                '' if cause is e else f' (raised in {type(e).__name__})')
            for f in self.group:
                f.failed = message
            warnings.warn(f'torch.compile of {self.name} failed, so the model runs eagerly: '
                          f'{message}')
            return self.eager(inputs, *args, **kwargs)
        if first:
            self.compile_seconds[key] = time.perf_counter() - t0
        return out


def _autocast_cpu() -> bool:
    try:  # torch >= 2.4; is_autocast_cpu_enabled() is deprecated there
        return torch.is_autocast_enabled('cpu')
    except TypeError:
        return torch.is_autocast_cpu_enabled()


def _shape_key(inputs) -> tuple:
    if isinstance(inputs, torch.Tensor):
        return (tuple(inputs.shape), inputs.dtype, _autocast_cpu())
    if isinstance(inputs, (tuple, list)):
        return tuple(_shape_key(x) for x in inputs)
    return (type(inputs).__name__, )


def compile_model(model: nn.Module, freezing: bool = True, mode: Optional[str] = None,
                  dynamic: Optional[bool] = False,
                  backend: Union[str, Callable] = 'inductor') -> nn.Module:
    """Compile ``model.extract_feat`` and ``model.head.forward`` in place (see the module).

    Args:
        model (nn.Module): A top-down pose model (``extract_feat`` and ``head``)
        freezing (bool): Inductor's ``freezing`` (inference only)
        mode (str, optional): ``torch.compile``'s ``mode`` (``None``, ``'max-autotune'``...)
        dynamic (bool, optional): ``torch.compile``'s ``dynamic``; ``False`` (default)
            compiles each batch size once, which is fastest for a fixed batch size
        backend (str | callable): ``torch.compile``'s ``backend``

    Returns:
        nn.Module: ``model``, whose ``compiled_functions`` lists the
        :class:`CompiledFunction` objects.
    """
    if getattr(model, 'compiled_functions', None):
        return model
    options = dict(dynamic=dynamic, mode=mode, backend=backend)
    if freezing and backend == 'inductor':
        options['options'] = {'freezing': True}
    group: List[CompiledFunction] = []
    model.extract_feat = CompiledFunction(model.extract_feat, 'extract_feat', group, **options)
    model.head.forward = CompiledFunction(model.head.forward, 'head.forward', group, **options)
    model.compiled_functions = group
    return model


def compile_seconds(model: nn.Module) -> float:
    """Seconds the first calls of ``model``'s compiled functions took (compilation
    included); 0 for a model that was not compiled."""
    return sum(sum(f.compile_seconds.values())
               for f in getattr(model, 'compiled_functions', None) or [])


def compile_failures(model: nn.Module) -> List[str]:
    """Why the model fell back to eager (one message per compiled function), or ``[]``."""
    return [f'{f.name}: {f.failed}' for f in getattr(model, 'compiled_functions', None) or []
            if f.failed]


__all__ = ['CompiledFunction', 'compile_model', 'compile_seconds', 'compile_failures']
