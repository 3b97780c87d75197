# Copyright (c) cpn_mm authors. All rights reserved.
import logging
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module()
class InferenceBackendHook(Hook):
    """Runs the test loop through another inference path: ONNX Runtime, OpenVINO or the
    ``torch.compile``-d model (:func:`cpn_mm.apis.build_runtime`).

    Before testing (after the checkpoint is loaded) the model is exported to ONNX in the work
    directory (unless ``onnx_file`` is given) and the backend stands in for it in the test
    loop: same data pipeline, flip test, decoding and evaluator. After testing the model is
    back. With ``compile=True`` the PyTorch model is compiled instead (the compilation time is
    logged). ``tools/test.py --backend/--precision/--onnx/--compile`` add this hook.

    Example::

        custom_hooks = [dict(type='InferenceBackendHook', backend='openvino', precision='bf16')]

    Args:
        backend (str): ``'auto'``, ``'pytorch'``, ``'onnxruntime'`` or ``'openvino'``
        precision (str, optional): ``'f32'``, ``'bf16'``, ``'int8'``, ``'default'`` or ``None``
            (see :func:`cpn_mm.apis.choose_backend`)
        onnx_file (str, optional): A float32 export or an int8 file from ``tools/quantize.py``
        compile (bool): ``torch.compile`` the PyTorch model
        threads (int, optional): Threads of ONNX Runtime / OpenVINO
    """

    priority = 'LOWEST'

    def __init__(self, backend: str = 'auto', precision: Optional[str] = None,
                 onnx_file: Optional[str] = None, compile: bool = False,
                 threads: Optional[int] = None) -> None:
        from cpn_mm.apis.runtime import choose_backend
        if backend not in ('pytorch', 'auto') or precision is not None:
            choose_backend(backend, 'cpu', onnx_file, precision)  # fail at build, not at test
        self.backend = backend
        self.precision = precision
        self.onnx_file = onnx_file
        self.compile = compile
        self.threads = threads
        self._model = None
        self._runtime = None

    def before_test(self, runner) -> None:
        import os.path as osp

        from cpn_mm.apis.runtime import build_runtime, runtime_name
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.eval()
        runtime = build_runtime(model, self.backend, self.precision, self.onnx_file,
                                osp.join(runner.work_dir, 'deploy'), self.compile, self.threads)
        self._runtime = runtime
        print_log(f'test through {runtime_name(runtime)}', logger='current')
        if runtime is not model:
            self._model = runner.model
            runner.model = runtime

    def after_test(self, runner) -> None:
        from cpn_mm.apis.compile import compile_failures, compile_seconds
        if self.compile:
            failures = compile_failures(self._runtime)
            if failures:
                print_log(f'torch.compile failed, the test ran eagerly: {failures[0]}',
                          logger='current', level=logging.WARNING)
            else:
                seconds = compile_seconds(self._runtime)
                print_log(f'torch.compile: first calls (compilation) took {seconds:.1f} s',
                          logger='current')
        if self._model is not None:
            runner.model = self._model
            self._model = None
