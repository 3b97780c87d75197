# Copyright (c) cpn_mm authors. All rights reserved.
"""The ONNX graph: export, and the one check of every ONNX file a runtime reads.

The exported graph maps the preprocessed crops ``input`` (B, 3, h, w) float32 (RGB,
``(x - mean) / std``, h, w = the codec's ``input_size``) to the refined heatmaps ``heatmaps``
(B, K, H, W): ``model.head.forward(model.extract_feat(input))``, what ``mode='tensor'``
returns. The batch axis is dynamic. Flip test and decoding stay in Python, shared by every
backend (:class:`cpn_mm.runtime.HeatmapBackend`).

:func:`check_onnx_file` is where a file (an export, or an int8 file of
:func:`cpn_mm.runtime.quantize_onnx`) is read and judged, once per file version: missing,
not ONNX (corrupt, truncated), without the graph's input and output, or made from another
config (crop size, K) each give one :class:`InputError` that names the file and the command
that makes a right one.
"""
import functools
import inspect
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Union

import torch
from torch import Tensor, nn

from cpn_mm.utils.errors import InputError, check_file
from .requirements import require_onnx

#: what makes a right file, for the errors
MAKE_EXPORT = ('export it from this config and checkpoint with tools/export_onnx.py CONFIG '
               'CHECKPOINT (int8: then tools/quantize.py)')


class HeatmapModule(nn.Module):
    """Preprocessed crops (B, 3, h, w) -> the head's heatmaps (B, K, H, W) of a top-down model:
    what is exported and compiled (backbone, neck, head; no flip test, no decoding)."""

    def __init__(self, pose_model: nn.Module) -> None:
        super().__init__()
        self.pose_model = pose_model

    def forward(self, inputs: Tensor) -> Tensor:
        return self.pose_model.head.forward(self.pose_model.extract_feat(inputs))


def torchscript_exporter() -> Dict[str, bool]:
    """Keyword arguments of ``torch.onnx.export`` that select the TorchScript exporter:
    ``dynamo=False`` (torch >= 2.9 defaults to the dynamo exporter), nothing on torch < 2.5,
    which has no ``dynamo`` argument and no other exporter."""
    return {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters \
        else {}


def export_onnx(model: nn.Module, out: str, opset: int = 17) -> str:
    """Export ``model`` (float32, eval) to ``out`` with a dynamic batch axis.

    Uses the TorchScript exporter (:func:`torchscript_exporter`): offline, no ``onnxscript``.
    The graph is traced in eval mode under ``torch.no_grad()``: CPN's GlobalNet heatmap
    predictors, which only the loss reads, are not in it. The file is checked
    (:func:`check_onnx_file`).

    Returns:
        str: ``out``.
    """
    require_onnx(runtime=False)
    w, h = model.head.decoder.input_size
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    dummy = torch.zeros(2, 3, h, w, device=next(model.parameters()).device)
    with torch.no_grad():
        torch.onnx.export(
            HeatmapModule(model).eval(), (dummy, ), out,
            input_names=['input'], output_names=['heatmaps'],
            dynamic_axes={'input': {0: 'batch'}, 'heatmaps': {0: 'batch'}},
            opset_version=opset, do_constant_folding=True, **torchscript_exporter())
    check_onnx_file(out, model, 'out')
    return out


class OnnxGraph(NamedTuple):
    """What a runtime needs to know of an ONNX file (:func:`check_onnx_file`).

    Attributes:
        path (str): The file
        inputs (dict): Input name -> shape (ints, or names for dynamic axes)
        outputs (dict): Output name -> shape
        quantized (bool): Holds int8 quantization (QuantizeLinear / QLinearConv nodes)
    """
    path: str
    inputs: Dict[str, list]
    outputs: Dict[str, list]
    quantized: bool


def _shape(value_info) -> list:
    return [d.dim_value if d.HasField('dim_value') else (d.dim_param or '?')
            for d in value_info.type.tensor_type.shape.dim]


@functools.lru_cache(maxsize=16)
def _read_graph(path: str, mtime_ns: int, size: int) -> Union[OnnxGraph, str]:
    """The file's :class:`OnnxGraph`, or why it is not one (read once per file version)."""
    import onnx
    try:
        proto = onnx.load(path, load_external_data=False)
        onnx.checker.check_model(proto)
    except Exception as e:  # protobuf's DecodeError, onnx's ValidationError, OSError...
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ''
        return f'{type(e).__name__}: {reason}' if reason else type(e).__name__
    graph = proto.graph
    initializers = {i.name for i in graph.initializer}
    return OnnxGraph(
        path, {i.name: _shape(i) for i in graph.input if i.name not in initializers},
        {o.name: _shape(o) for o in graph.output},
        any(n.op_type in ('QuantizeLinear', 'QLinearConv') for n in graph.node))


def check_onnx_file(path: str, model: Optional[nn.Module] = None,
                    name: str = 'onnx_file') -> OnnxGraph:
    """Read the ONNX file ``path`` (once per file version) and check that it is the graph of
    :func:`export_onnx`, of ``model``'s config when ``model`` is given.

    Args:
        path (str): The file
        model (nn.Module, optional): The pose model the file must fit: its codec's crop size
            ``(h, w)`` and its number of keypoints K
        name (str): The parameter the errors name

    Returns:
        OnnxGraph: inputs, outputs, whether it is quantized.

    Raises:
        InputError: naming ``name``, the file and the command that makes a right one, for a
            missing, unreadable (corrupt, truncated), foreign or mismatched file.
    """
    check_file(path, name)
    require_onnx(runtime=False)
    stat = os.stat(path)
    graph = _read_graph(osp.abspath(path), stat.st_mtime_ns, stat.st_size)
    if isinstance(graph, str):
        raise InputError(f'`{name}` {path!r} is not a loadable ONNX model ({graph}): a corrupt '
                         f'or truncated file; {MAKE_EXPORT}')
    if 'input' not in graph.inputs or 'heatmaps' not in graph.outputs:
        raise InputError(f'`{name}` {path!r} must have an input "input" and an output '
                         f'"heatmaps", got {list(graph.inputs)} -> {list(graph.outputs)}; '
                         f'{MAKE_EXPORT}')
    if model is not None:
        _check_fits(graph, model, name)
    return graph


def _check_fits(graph: OnnxGraph, model: nn.Module, name: str) -> None:
    """Raise :class:`InputError` unless the graph takes the model's crops (3, h, w) and gives
    its K heatmaps."""
    w, h = model.head.decoder.input_size
    crops = list(graph.inputs['input'])[1:]
    if crops != [3, h, w]:
        raise InputError(f'`{name}` {graph.path!r} takes crops {crops}, the config\'s codec '
                         f'{[3, h, w]} (C, h, w): another config\'s export; {MAKE_EXPORT}')
    k = getattr(model.head, 'num_keypoints', getattr(model.head, 'out_channels', None))
    got = list(graph.outputs['heatmaps'])[1:2]
    if isinstance(k, int) and got and isinstance(got[0], int) and got[0] not in (0, k):
        raise InputError(f'`{name}` {graph.path!r} gives {got[0]} heatmaps, the model has '
                         f'{k} keypoints: another config\'s export; {MAKE_EXPORT}')


def is_quantized(onnx_file: str, name: str = 'onnx_file') -> bool:
    """Whether an ONNX file holds int8 quantization (read once per file version by
    :func:`check_onnx_file`)."""
    return check_onnx_file(onnx_file, None, name).quantized




def default_export_path(model: nn.Module, work_dir: str) -> str:
    """``<work_dir>/<config name>.onnx`` (``model.onnx`` for a model without ``cfg``, as a
    runner's): where a backend without an ``onnx_file`` exports its model."""
    cfg = getattr(model, 'cfg', None)  # init_model sets it; a runner's model has none
    name = osp.splitext(osp.basename(getattr(cfg, 'filename', None) or 'model'))[0]
    return osp.join(work_dir, name + '.onnx')


__all__: List[str] = ['HeatmapModule', 'torchscript_exporter', 'export_onnx', 'OnnxGraph',
                      'check_onnx_file', 'is_quantized', 'default_export_path']
