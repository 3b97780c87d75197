# Copyright (c) cpn_mm authors. All rights reserved.
import torch
from torch import Tensor
from torch.autograd import Function


class _PerMapSquaredError(Function):
    """Sum of squared differences per (sample, keypoint) map with a lean backward.

    Autograd's ``(output - target).pow(2).mean((2, 3))`` multiplies by an expanded gradient in
    ``PowBackward`` (slow, strided) and allocates several full-size tensors; here the difference
    is the only full-size tensor: the forward reads it once for the norm and the backward scales
    it in place into the gradient. So the graph can be backpropagated once only
    (``retain_graph=True`` and a second backward raise an error).
    """

    @staticmethod
    def forward(ctx, output: Tensor, target: Tensor) -> Tensor:
        if output.dtype != target.dtype:
            target = target.to(output.dtype)
        diff = output - target
        ctx.save_for_backward(diff)
        ctx.used = False
        ctx.target_grad = target.requires_grad
        # the norm reads diff once; accumulate in float32 also for half inputs
        norm_dtype = torch.promote_types(diff.dtype, torch.float32)
        return torch.linalg.vector_norm(diff.flatten(2), dim=-1, dtype=norm_dtype).square()

    @staticmethod
    def backward(ctx, grad: Tensor):
        if ctx.used:
            raise RuntimeError('per_map_squared_error reuses its saved difference as the '
                               'gradient: backpropagate through it once only')
        ctx.used = True
        diff, = ctx.saved_tensors
        grad_output = diff.mul_((2 * grad).to(diff.dtype)[:, :, None, None])
        return grad_output, (-grad_output if ctx.target_grad else None)


def at_least_float32(x: Tensor) -> Tensor:
    """``x`` in float32 if it is a lower-precision float (bfloat16/float16 under autocast),
    else unchanged: CPN's losses are computed in float32 (float64 stays float64)."""
    return x.float() if x.is_floating_point() and x.element_size() < 4 else x


def per_map_squared_error(output: Tensor, target: Tensor) -> Tensor:
    """``((output - target) ** 2).sum((2, 3))`` for (B, K, H, W) inputs, as (B, K) in float32
    (float64 for float64 inputs)."""
    return _PerMapSquaredError.apply(output, target)
