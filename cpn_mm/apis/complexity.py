# Copyright (c) cpn_mm authors. All rights reserved.
"""Parameters and FLOPs of a pose model, per component (backbone, neck, head).

FLOPs follow MMEngine's (fvcore's) convention: one multiply-accumulate counts as one FLOP,
batch 1, one crop, no flip test, no decoding: the inference forward (eval mode, no autograd).
Each component is analysed on its real input. CPN's GlobalNet heatmap predictors, which only
the training loss reads, do not run at inference and are not counted; pass
``parts=dict(neck=...)`` with a module calling ``neck(x, with_heatmaps=True)`` to count them.
"""
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
from torch import nn

from cpn_mm.utils.errors import InputError
from .inference import init_model

PARTS = ('backbone', 'neck', 'head')


def count_flops(module: nn.Module, inputs: tuple) -> int:
    """Multiply-accumulates of ``module(*inputs)`` by MMEngine's ``FlopAnalyzer`` (warnings
    about unsupported/uncalled ops off)."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return int(analyzer.total())


def input_shape_of(config) -> Sequence[int]:
    """``[H, W]`` of one crop from the config's codec (``model.head.decoder`` or ``codec``)."""
    codec = config.model.get('head', {}).get('decoder') or config.get('codec')
    if isinstance(codec, (list, tuple)):
        codec = codec[0]
    if not codec or 'input_size' not in codec:
        raise InputError('the config has no codec `input_size`: pass `input_shape` [H, W]')
    return list(codec['input_size'])[::-1]


def complexity(model: nn.Module, input_shape: Sequence[int],
               parts: Optional[Dict[str, nn.Module]] = None) -> Dict[str, Dict[str, int]]:
    """Parameters and FLOPs of a top-down model's backbone, neck (if any) and head.

    Args:
        model (nn.Module): A top-down pose estimator
        input_shape (Sequence[int]): ``[H, W]`` of one crop
        parts (dict, optional): Modules to analyse instead of the model's own ``neck`` or
            ``head`` (same inputs and outputs), e.g. :mod:`cpn_mm.testing`'s straightforward
            CPN forward

    Returns:
        dict: ``params`` and ``flops``, each ``{'backbone', 'neck', 'head', 'total'}`` (plain
        counts; 0 for a missing component).
    """
    from mmengine.analysis import parameter_count
    parts = dict(parts or {})
    h, w = (int(v) for v in input_shape)
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, h, w, device=device)
    training = model.training
    model.eval()
    neck = parts.get('neck', model.neck if model.with_neck else None)
    head = parts.get('head', model.head if model.with_head else None)
    flops = dict(backbone=0, neck=0, head=0)
    with torch.no_grad():
        feats = model.backbone(x)
        flops['backbone'] = count_flops(model.backbone, (x, ))
        if neck is not None:
            flops['neck'] = count_flops(neck, (feats, ))
            feats = neck(feats)
        if head is not None:
            flops['head'] = count_flops(head, (feats, ))
    model.train(training)
    counts = parameter_count(model)
    params = {p: int(counts.get(p, 0)) for p in PARTS}
    params['total'] = int(counts[''])
    flops['total'] = sum(flops[p] for p in PARTS)
    return dict(params=params, flops=flops)


def config_complexity(config: str, input_shape: Optional[Sequence[int]] = None,
                      cfg_options: Optional[dict] = None) -> Dict[str, object]:
    """:func:`complexity` of a config file's model.

    Returns:
        dict: ``config``, ``input_shape`` [H, W], ``params`` and ``flops``.
    """
    model = init_model(config, None, cfg_options=cfg_options)  # random weights, no download
    shape = list(input_shape) if input_shape is not None else input_shape_of(model.cfg)
    return dict(config=config if isinstance(config, str) else osp.basename(str(config)),
                input_shape=[int(v) for v in shape], **complexity(model, shape))
