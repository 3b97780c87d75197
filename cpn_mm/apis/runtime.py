# Copyright (c) cpn_mm authors. All rights reserved.
"""Choosing and building the inference path: PyTorch (eager or compiled), ONNX Runtime or
OpenVINO, at a precision.

:func:`build_runtime` returns what ``mmpose.apis.inference_topdown`` and MMEngine's test loop
run: the PyTorch model itself or a :class:`cpn_mm.apis.backend.HeatmapBackend` standing in for
it. Every path shares the model's data pipeline, flip test and decoding.

``backend='auto'`` picks the fastest path that is installed for the device
(``benchmarks/README.md``, "CPU inference paths"): on the CPU, OpenVINO when ``openvino`` is
installed (int8 when the given ONNX file is quantized, otherwise bfloat16 where the CPU has
bfloat16 and float32 elsewhere), else PyTorch; on a GPU, PyTorch.
"""
import os.path as osp
from typing import Optional, Union

from torch import nn

from .backend import HeatmapBackend
from .compile import compile_model
from .deploy import OnnxRuntimeBackend, export_onnx
from .inference import InputError, check_file, set_inference_dtype
from .openvino_backend import (OpenVINOBackend, cpu_capabilities, is_quantized, openvino_available,
                               parse_precision)

BACKENDS = ('auto', 'pytorch', 'onnxruntime', 'openvino')


def choose_backend(backend: str, device: str = 'cpu', onnx_file: Optional[str] = None,
                   precision: Optional[str] = None) -> tuple:
    """``(backend, precision)`` that ``'auto'`` (or ``precision=None``) resolves to.

    Args:
        backend (str): One of :data:`BACKENDS`
        device (str): The model's device
        onnx_file (str, optional): A given ONNX file (a quantized one selects int8)
        precision (str, optional): ``'f32'``, ``'bf16'``, ``'int8'``, ``'default'`` (OpenVINO's
            choice) or ``None`` (the best for the backend)

    Returns:
        tuple: backend name (not ``'auto'``) and precision (``None`` for PyTorch's config
        default).
    """
    if backend not in BACKENDS:
        raise InputError(f'`backend` must be one of {list(BACKENDS)}, got {backend!r}')
    if precision is not None:
        precision = parse_precision(precision)
    quantized = onnx_file is not None and osp.isfile(onnx_file) and is_quantized(onnx_file)
    if backend == 'auto':
        if not device.startswith('cpu'):
            backend = 'pytorch'
        elif openvino_available():
            backend = 'openvino'
        elif quantized or precision == 'int8':
            backend = 'onnxruntime'
        else:
            backend = 'pytorch'
    if backend != 'pytorch' and not device.startswith('cpu'):
        raise InputError(f'`backend` {backend!r} runs on the CPU; `device` is {device!r} (use '
                         "backend 'pytorch' there)")
    if precision is None and backend == 'openvino':
        precision = 'int8' if quantized else (
            'bf16' if 'BF16' in cpu_capabilities() else 'f32')
    if precision is None and backend == 'onnxruntime':
        precision = 'int8' if quantized else 'f32'
    if backend == 'pytorch' and precision in ('int8', 'default'):
        raise InputError(f"`precision` {precision!r} needs backend 'onnxruntime' or "
                         "'openvino'; PyTorch runs 'f32' or 'bf16'")
    if backend == 'onnxruntime' and precision not in ('f32', 'int8'):
        raise InputError(f"`precision` {precision!r}: backend 'onnxruntime' runs the float32 "
                         "export ('f32') or a quantized one ('int8')")
    return backend, precision


def build_runtime(model: nn.Module, backend: str = 'auto', precision: Optional[str] = None,
                  onnx_file: Optional[str] = None, work_dir: str = 'work_dirs/deploy',
                  compile: bool = False, threads: Optional[int] = None
                  ) -> Union[nn.Module, HeatmapBackend]:
    """The inference path for ``model`` (:func:`choose_backend` resolves ``'auto'``).

    Args:
        model (nn.Module): From :func:`cpn_mm.apis.init_model` (float32 weights, eval)
        backend (str): ``'auto'``, ``'pytorch'``, ``'onnxruntime'`` or ``'openvino'``
        precision (str, optional): See :func:`choose_backend`; for PyTorch ``'f32'``/``'bf16'``
            set ``model.test_cfg['dtype']``
        onnx_file (str, optional): The ONNX file for ONNX Runtime/OpenVINO (float32 from
            :func:`cpn_mm.apis.export_onnx` or int8 from :func:`cpn_mm.apis.quantize_onnx`);
            ``None``: ``model`` is exported to ``<work_dir>/<config name>.onnx`` (float32; int8
            needs a quantized file: ``tools/quantize.py``)
        work_dir (str): Where an export goes
        compile (bool): ``torch.compile`` the PyTorch model (:func:`cpn_mm.apis.compile_model`)
        threads (int, optional): Threads of ONNX Runtime/OpenVINO (``None``: theirs)

    Returns:
        nn.Module | HeatmapBackend: what to hand to ``inference_topdown``; its ``name``
        attribute (backends) or ``'pytorch'``.
    """
    check_file(onnx_file, 'onnx_file')
    device = str(next(model.parameters()).device)
    backend, precision = choose_backend(backend, device, onnx_file, precision)
    if compile and backend != 'pytorch':
        raise InputError(f'`compile` applies to the PyTorch backend, not {backend!r}')
    if backend == 'pytorch':
        if onnx_file is not None:
            raise InputError("`onnx_file` is read by backend 'onnxruntime' or 'openvino', not "
                             "'pytorch'")
        if precision is not None:
            set_inference_dtype(model, {'f32': 'float32', 'bf16': 'bfloat16'}[precision])
        return compile_model(model) if compile else model
    if onnx_file is None:
        if precision == 'int8':
            raise InputError('`precision` int8 needs a quantized `onnx_file` (tools/quantize.py)')
        cfg = getattr(model, 'cfg', None)  # init_model sets it; a runner's model has none
        name = osp.splitext(osp.basename(getattr(cfg, 'filename', None) or 'model'))[0]
        onnx_file = export_onnx(model, osp.join(work_dir, name + '.onnx'))
    if backend == 'onnxruntime':
        if (precision == 'int8') != is_quantized(onnx_file):
            raise InputError(f'`precision` {precision!r} does not match `onnx_file` '
                             f'{onnx_file!r}, which is '
                             f'{"quantized (int8)" if is_quantized(onnx_file) else "float32"}')
        return OnnxRuntimeBackend(onnx_file, model, threads)
    return OpenVINOBackend(onnx_file, model, precision, threads)


def runtime_name(runtime) -> str:
    """``'pytorch'``, ``'pytorch (compiled)'``, ``'onnxruntime'``, ``'openvino (bf16)'``..."""
    if isinstance(runtime, OpenVINOBackend):
        return f'openvino ({runtime.precision}, compiled for {runtime.inference_precision})'
    if isinstance(runtime, HeatmapBackend):
        return runtime.name + (' (int8)' if is_quantized(runtime.onnx_file) else ' (f32)')
    dtype = runtime.test_cfg.get('dtype', 'float32')
    return f'pytorch ({dtype}' + (', compiled)' if getattr(runtime, 'compiled_functions', None)
                                  else ')')


__all__ = ['BACKENDS', 'choose_backend', 'build_runtime', 'runtime_name']
