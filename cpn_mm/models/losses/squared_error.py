# Copyright (c) cpn_mm authors. All rights reserved.
import torch
from torch import Tensor


def at_least_float32(x: Tensor) -> Tensor:
    """``x`` in float32 if it is a lower-precision float (bfloat16/float16 under autocast),
    else unchanged: CPN's losses are computed in float32 (float64 stays float64)."""
    return x.float() if x.is_floating_point() and x.element_size() < 4 else x


def per_map_squared_error(output: Tensor, target: Tensor) -> Tensor:
    """``((output - target) ** 2).sum((2, 3))`` for (B, K, H, W) inputs, as (B, K) in float32
    (float64 for float64 inputs). Plain tensor operations: autograd differentiates it, also
    more than once (``retain_graph=True``)."""
    dtype = torch.promote_types(torch.promote_types(output.dtype, target.dtype), torch.float32)
    diff = output.to(dtype) - target.to(dtype)
    return diff.square().sum(dim=(2, 3))
