# Copyright (c) cpn_mm authors. All rights reserved.
"""What the runtimes need installed: ``onnx`` (export, file checks), ``onnxruntime``
(ONNX Runtime, quantization), ``openvino`` (OpenVINO); optional dependencies, imported only
when used, each missing one an :class:`InputError` with its installation command."""
from cpn_mm.utils.errors import InputError


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


def openvino_available() -> bool:
    """Whether ``openvino`` can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def require_openvino() -> None:
    """Raise :class:`InputError` with an installation hint if ``openvino`` is missing."""
    if not openvino_available():
        raise InputError('`backend` openvino: openvino is not installed; install it with '
                         '`pip install -e .[openvino]` (see requirements/openvino.txt)')


__all__ = ['require_onnx', 'require_openvino', 'openvino_available']
