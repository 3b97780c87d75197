# Copyright (c) cpn_mm authors. All rights reserved.
"""Comparing float32 gradients with a float64 computation of the same function.

A ReLU network's gradient is piecewise constant in the ReLU masks. Where a pre-activation lies
within float32 rounding of zero (|x| ~ 1e-6 of values ~5), float32 and float64 (or two float32
kernels: contiguous and channels_last, the optimised and the straightforward forward) can put it
on different sides, and each such flip moves a weight gradient by one summand: ~1e-2 of its size
under a random-sign loss (sums of N terms of random sign are ~sqrt(N) terms large). That is not
a rounding error of a kernel but a different branch of the function. So the float64 reference
replays the float32 run's ReLU masks (:func:`record_relu_masks`, :func:`replay_relu_masks`):
both then compute the same linear piece, and what is left is rounding.
"""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn


def gradient_deviation(grads: Dict[str, Tensor], ref: Dict[str, Tensor]) -> Tuple[float, str]:
    """The worst deviation of ``grads`` from ``ref`` (same keys) and its key.

    A gradient's deviation is ``max |g - r| / max(max |r|, 1e-2 * R)``, ``R`` the largest
    ``max |r|`` of all: gradients that are zero up to rounding (a conv bias in front of batch
    norm) are compared on the scale of the model's gradients. NaN is the worst deviation.
    """
    scale = 1e-2 * max(r.abs().max().item() for r in ref.values())
    worst, worst_key = 0.0, ''
    for key, r in ref.items():
        dev = ((grads[key].to(r.dtype) - r).abs().max() / max(r.abs().max().item(), scale)).item()
        if not dev <= worst:
            worst, worst_key = dev, key
    return worst, worst_key


class _RecordingReLU(nn.Module):
    """ReLU that appends its mask (input > 0) to ``masks`` at every call."""

    def __init__(self, masks: List[Tensor]) -> None:
        super().__init__()
        self.masks = masks

    def forward(self, x: Tensor) -> Tensor:
        mask = x > 0
        self.masks.append(mask.detach())
        return x * mask


class _ReplayReLU(nn.Module):
    """``x * mask`` with the next of the recorded ``masks`` (shared by all instances)."""

    def __init__(self, masks: List[Tensor]) -> None:
        super().__init__()
        self.masks = masks

    def forward(self, x: Tensor) -> Tensor:
        mask = self.masks.pop(0)
        if mask.shape != x.shape:
            raise RuntimeError(f'replayed ReLU mask {tuple(mask.shape)} does not fit the input '
                               f'{tuple(x.shape)}: the two runs called their ReLUs in another '
                               'order')
        return x * mask.to(x.dtype)


def _replace_relus(module: nn.Module, make) -> int:
    count = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(parent, name, make())
                count += 1
    if count == 0:
        raise ValueError('no nn.ReLU module found')
    return count


def record_relu_masks(*modules: nn.Module) -> List[Tensor]:
    """Replace every ``nn.ReLU`` in ``modules`` (in place) by one that records its masks in call
    order; returns the list they are recorded in."""
    masks: List[Tensor] = []
    for m in modules:
        _replace_relus(m, lambda: _RecordingReLU(masks))
    return masks


def replay_relu_masks(masks: List[Tensor], *modules: nn.Module) -> None:
    """Replace every ``nn.ReLU`` in ``modules`` (in place) by one that applies the next of the
    recorded ``masks`` (a copy of the list is consumed), so that a run through the same modules
    in the same order takes the recorded branch of every ReLU."""
    queue = list(masks)
    for m in modules:
        _replace_relus(m, lambda: _ReplayReLU(queue))


def named_gradients(*modules: nn.Module) -> Dict[str, Tensor]:
    """The gradients of the parameters of ``modules``, keyed ``'<i>.<name>'``."""
    return {
        f'{i}.{name}': p.grad.detach().clone()
        for i, m in enumerate(modules) for name, p in m.named_parameters() if p.grad is not None
    }


def float64_reference(module: nn.Module) -> nn.Module:
    """``module`` in float64, contiguous (a copy)."""
    import copy
    return copy.deepcopy(module).double().to(memory_format=torch.contiguous_format)
