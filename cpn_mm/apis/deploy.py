# Copyright (c) cpn_mm authors. All rights reserved.
"""ONNX export with a parity check, and ONNX Runtime as an inference backend.

The exported graph maps the preprocessed crops ``input`` (B, 3, h, w) float32 (RGB,
``(x - mean) / std``, h, w = the codec's ``input_size``) to the refined heatmaps ``heatmaps``
(B, K, H, W): ``model.head.forward(model.extract_feat(input))``, what ``mode='tensor'``
returns. The batch axis is dynamic. Flip test and decoding stay in Python, shared by both
backends (:class:`OnnxRuntimeBackend`).
"""
import inspect
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor, nn

from .backend import HeatmapBackend
from .inference import InputError, check_file


def require_onnx(runtime: bool = True, export: bool = True) -> None:
    """Raise :class:`InputError` with an installation hint if ``onnx`` (for export) or
    ``onnxruntime`` (to run or verify) cannot be imported."""
    missing = []
    for name, needed in (('onnx', export), ('onnxruntime', runtime)):
        if not needed:
            continue
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise InputError(f'{" and ".join(missing)} not installed; install with '
                         f'`.venv/bin/python -m pip install {" ".join(missing)}` '
                         '(see requirements/tests.txt)')


class HeatmapModule(nn.Module):
    """Preprocessed crops (B, 3, h, w) -> the head's heatmaps (B, K, H, W) of a top-down model:
    what is exported (backbone, neck, head; no flip test, no decoding)."""

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
    predictors, which only the loss reads, are not in it. The file is checked with
    ``onnx.checker``.

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
    import onnx
    onnx.checker.check_model(onnx.load(out))
    return out


class OnnxRuntimeBackend(HeatmapBackend):
    """Runs a top-down model's heatmaps through ONNX Runtime (CPU); the rest is the model's
    (:class:`cpn_mm.apis.backend.HeatmapBackend`: flip test and decoding as in PyTorch).

    ``test_cfg.dtype`` does not apply: the graph's precision is the file's (float32 from
    :func:`export_onnx`, int8 from :func:`cpn_mm.apis.quantize_onnx`).

    Args:
        onnx_file (str): From :func:`export_onnx` or :func:`cpn_mm.apis.quantize_onnx` (input
            ``input``, output ``heatmaps``)
        model (nn.Module): The PyTorch model it was exported from (config, preprocessor, codec)
        threads (int, optional): ONNX Runtime's intra-op threads; ``None``: its default
    """

    name = 'onnxruntime'

    def __init__(self, onnx_file: str, model: nn.Module, threads: Optional[int] = None) -> None:
        super().__init__(model)
        require_onnx(export=False)
        check_file(onnx_file, 'onnx_file')
        import onnxruntime as ort
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(onnx_file, options,
                                                providers=['CPUExecutionProvider'])
        except Exception as e:  # onnxruntime raises its own exception types
            raise InputError(f'`onnx_file` {onnx_file!r} is not a loadable ONNX model: {e}') \
                from e
        check_graph_io(onnx_file, {i.name: i.shape for i in self.session.get_inputs()},
                       [o.name for o in self.session.get_outputs()], model)
        self.onnx_file = onnx_file

    def heatmaps(self, inputs: Tensor) -> Tensor:
        """Heatmaps (B, K, H, W) float32 of preprocessed crops (B, 3, h, w)."""
        x = self.as_numpy(inputs)
        return torch.from_numpy(self.session.run(['heatmaps'], {'input': x})[0])


def check_graph_io(model_file: str, inputs: Dict[str, list], outputs: List[str],
                   model: nn.Module, name: str = 'onnx_file') -> None:
    """Raise :class:`InputError` (naming the parameter ``name``) unless the graph maps an input
    ``input`` (B, 3, h, w) with the model's codec input size to an output ``heatmaps``."""
    if 'input' not in inputs or 'heatmaps' not in outputs:
        raise InputError(f'`{name}` {model_file!r} must have an input "input" and an output '
                         f'"heatmaps" (tools/export_onnx.py), got {list(inputs)} -> '
                         f'{outputs}')
    w, h = model.head.decoder.input_size
    if [int(d) if str(d).isdigit() else d for d in list(inputs['input'])[1:]] != [3, h, w]:
        raise InputError(f'`{name}` {model_file!r} takes crops {list(inputs["input"])[1:]}, '
                         f"the config's codec {[3, h, w]} (C, h, w): export it from this config")


def verify_onnx(model: nn.Module, onnx_file: str, inputs: Tensor,
                atol: float = 1e-3) -> Dict[str, float]:
    """Compare PyTorch and ONNX Runtime heatmaps and decoded keypoints on ``inputs``.

    Args:
        inputs (Tensor): Preprocessed crops (N, 3, h, w), e.g. :func:`cpn_mm.apis.sample_crops`

    Returns:
        dict: ``num_crops``, ``max_abs_diff`` (heatmaps), ``num_keypoints_differing``,
        ``max_score_diff``.

    Raises:
        AssertionError: if the heatmaps differ by ``atol`` or more or any decoded keypoint
            differs.
    """
    with torch.no_grad():
        ref = HeatmapModule(model).eval()(inputs).cpu().float().numpy()
    got = OnnxRuntimeBackend(onnx_file, model).heatmaps(inputs).numpy()
    codec = model.head.decoder
    k_ref, s_ref = codec.batch_decode(ref)
    k_got, s_got = codec.batch_decode(got)
    report = dict(
        num_crops=int(inputs.shape[0]),
        max_abs_diff=float(np.abs(ref - got).max()),
        num_keypoints_differing=int((k_ref != k_got).any(-1).sum()),
        max_score_diff=float(np.abs(s_ref - s_got).max()))
    if report['max_abs_diff'] >= atol or report['num_keypoints_differing']:
        raise AssertionError(f'ONNX export differs from PyTorch: {report} (atol {atol})')
    return report


__all__: List[str] = ['require_onnx', 'HeatmapModule', 'export_onnx', 'OnnxRuntimeBackend',
                      'verify_onnx', 'check_graph_io']
