# Copyright (c) cpn_mm authors. All rights reserved.
"""Building the inference path: from a built model (:func:`build_runtime`) or as a runner's
model config (:func:`runtime_config`), both by :func:`cpn_mm.runtime.resolve_runtime`'s rules.

PyTorch eager is the model itself; ``torch.compile``, ONNX Runtime and OpenVINO are
:class:`cpn_mm.runtime.HeatmapBackend` models around it. Every path shares the model's data
pipeline, flip test and decoding.
"""
import copy
from typing import Optional, Union

from torch import nn

from cpn_mm.models import MixedPrecisionTopdownPoseEstimator, set_inference_dtype
from cpn_mm.utils.errors import InputError
from cpn_mm.utils.precision import PRECISIONS, dtype_name
from .base import HeatmapBackend
from .compiled_backend import TorchCompileBackend
from .export import default_export_path, export_onnx
from .onnxruntime_backend import OnnxRuntimeBackend
from .openvino_backend import OpenVINOBackend
from .rules import resolve_runtime


def build_runtime(model: nn.Module, backend: str = 'auto', precision: Optional[str] = None,
                  onnx_file: Optional[str] = None, work_dir: str = 'work_dirs/deploy',
                  compile: bool = False, threads: Optional[int] = None,
                  dtype: Optional[str] = None) -> Union[nn.Module, HeatmapBackend]:
    """The inference path for a built ``model`` (:func:`cpn_mm.runtime.resolve_runtime`
    resolves ``'auto'`` and checks the arguments).

    Args:
        model (nn.Module): From :func:`cpn_mm.apis.init_model` (float32 weights, eval)
        backend (str): ``'auto'``, ``'pytorch'``, ``'onnxruntime'`` or ``'openvino'``
        precision (str, optional): See :func:`cpn_mm.runtime.resolve_runtime`; for PyTorch
            ``'f32'``/``'bf16'`` set ``model.test_cfg['dtype']``
        onnx_file (str, optional): The ONNX file for ONNX Runtime/OpenVINO (float32 from
            :func:`cpn_mm.runtime.export_onnx` or int8 from
            :func:`cpn_mm.runtime.quantize_onnx`); ``None``: ``model`` is exported to
            ``<work_dir>/<config name>.onnx`` (float32; int8 needs a quantized file)
        work_dir (str): Where an export goes
        compile (bool): ``torch.compile`` the PyTorch model (:class:`TorchCompileBackend`)
        threads (int, optional): Threads of ONNX Runtime/OpenVINO (``None``: theirs)
        dtype (str, optional): PyTorch's precision by its older name (``'bfloat16'``...)

    Returns:
        nn.Module: what ``inference_topdown`` and ``test_step`` run: ``model`` itself (PyTorch
        eager) or a :class:`HeatmapBackend` around it.
    """
    device = str(next(model.parameters()).device)
    choice = resolve_runtime(backend, precision, onnx_file, device, compile, dtype)
    if choice.backend == 'pytorch':
        if choice.precision is not None:
            set_inference_dtype(model, PRECISIONS[choice.precision])
        return TorchCompileBackend(model) if choice.compile else model
    if onnx_file is None:
        onnx_file = export_onnx(model, default_export_path(model, work_dir))
    if choice.backend == 'onnxruntime':
        return OnnxRuntimeBackend(onnx_file, model, threads, choice.precision)
    return OpenVINOBackend(onnx_file, model, choice.precision, threads)


def runtime_config(model: dict, backend: str = 'auto', precision: Optional[str] = None,
                   onnx_file: Optional[str] = None, work_dir: str = 'work_dirs/deploy',
                   compile: bool = False, threads: Optional[int] = None) -> dict:
    """A runner's ``model`` config that runs the pose model config ``model`` through the
    inference path (the arguments as :func:`build_runtime`'s, checked now).

    PyTorch eager is ``model`` with ``test_cfg.dtype`` set; the other paths are a backend's
    config around it (``dict(type='OpenVINOBackend', model=model, ...)``). MMEngine's runner
    builds and tests it as any model, and loads ``load_from`` (the pose model's checkpoint)
    into it; without ``onnx_file`` the backend exports the loaded model to
    ``<work_dir>/model.onnx`` at its first call. ``tools/test.py`` (its inference-path
    options) and :func:`cpn_mm.apis.evaluation.evaluate` use it.

    Returns:
        dict: The runner's ``model`` config (``model`` is not changed).
    """
    from mmengine.device import get_device
    choice = resolve_runtime(backend, precision, onnx_file, get_device(), compile)
    model = copy.deepcopy(model)
    if choice.backend == 'pytorch':
        if choice.precision is not None:
            dtype = PRECISIONS[choice.precision]
            if choice.precision != 'f32' and model.get('type') not in (
                    'MixedPrecisionTopdownPoseEstimator', MixedPrecisionTopdownPoseEstimator):
                raise InputError(f'`precision` {choice.precision}: the model is a '
                                 f"{model.get('type')}; set the config's "
                                 "model.type='MixedPrecisionTopdownPoseEstimator'")
            model.setdefault('test_cfg', {})['dtype'] = dtype_name(dtype)
        return dict(type='TorchCompileBackend', model=model) if choice.compile else model
    common = dict(onnx_file=onnx_file, model=model, threads=threads, work_dir=work_dir,
                  precision=choice.precision)
    return dict(type='OnnxRuntimeBackend' if choice.backend == 'onnxruntime'
                else 'OpenVINOBackend', **common)


def runtime_name(runtime: nn.Module) -> str:
    """``'pytorch (float32)'``, ``'pytorch (bfloat16, compiled)'``, ``'onnxruntime (int8)'``,
    ``'openvino (bf16, compiled for bf16)'``..."""
    if isinstance(runtime, HeatmapBackend):
        return runtime.runtime_name
    return f"pytorch ({runtime.test_cfg.get('dtype', 'float32')})"


__all__ = ['build_runtime', 'runtime_config', 'runtime_name']
