# Copyright (c) cpn_mm authors. All rights reserved.
"""Every ONNX file a runtime reads is checked in one place (``check_onnx_file``): a missing,
corrupt, truncated or mismatched file (another config's crop size or K) gives one clear error
naming the file and the command that makes a right one, in the library and in the tools."""
import os

import pytest
import torch

from cpn_mm.apis import init_model
from cpn_mm.runtime import (OnnxRuntimeBackend, OpenVINOBackend, check_onnx_file, export_onnx,
                            openvino_available, resolve_runtime)
from cpn_mm.utils import InputError
from ..helpers import SAMPLE, SAMPLE_CONFIG, tool_main

MAKE = 'tools/export_onnx.py CONFIG CHECKPOINT'


def _graph(path: str, crop=(3, 192, 144), k: int = 17) -> str:
    """A one-convolution ONNX graph ``input`` (B, *crop) -> ``heatmaps`` (B, k, h/4, w/4)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    c, h, w = crop
    weight = numpy_helper.from_array(np.zeros((k, c, 4, 4), np.float32), 'w')
    node = helper.make_node('Conv', ['input', 'w'], ['heatmaps'], strides=[4, 4])
    graph = helper.make_graph(
        [node], 'g', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                    ['batch', c, h, w])],
        [helper.make_tensor_value_info('heatmaps', TensorProto.FLOAT,
                                       ['batch', k, h // 4, w // 4])], [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), path)
    return path


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """(model, {case: file}) of the sample config with random weights."""
    torch.manual_seed(0)
    model = init_model(SAMPLE_CONFIG)
    folder = tmp_path_factory.mktemp('onnx_files')
    good = export_onnx(model, str(folder / 'good.onnx'))
    corrupt = folder / 'corrupt.onnx'
    corrupt.write_bytes(os.urandom(4096))
    truncated = folder / 'truncated.onnx'
    with open(good, 'rb') as f:
        truncated.write_bytes(f.read()[:200_000])
    return model, dict(
        good=good, corrupt=str(corrupt), truncated=str(truncated),
        crop=_graph(str(folder / 'crop.onnx'), crop=(3, 128, 96)),
        k=_graph(str(folder / 'k.onnx'), k=14))


EXPECTED = dict(corrupt='is not a loadable ONNX model', truncated='is not a loadable ONNX model',
                crop=r'takes crops \[3, 128, 96\]', k='gives 14 heatmaps, the model has 17')


@pytest.mark.parametrize('case', list(EXPECTED))
def test_bad_files_give_one_clear_error(files, case):
    model, paths = files
    backends = [OnnxRuntimeBackend] + ([OpenVINOBackend] if openvino_available() else [])
    for backend in backends:
        with pytest.raises(InputError, match=f'^`onnx_file` .*{EXPECTED[case]}') as error:
            backend(paths[case], model)
        assert paths[case] in str(error.value) and MAKE in str(error.value)


def test_the_rules_read_the_file_once_checked(files):
    """``resolve_runtime`` (what every caller uses) reads a file through the same check."""
    model, paths = files
    assert not check_onnx_file(paths['good'], model).quantized
    with pytest.raises(InputError, match=f"^`onnx_file` '{paths['corrupt']}' is not a "):
        resolve_runtime('onnxruntime', onnx_file=paths['corrupt'])
    with pytest.raises(InputError, match="^`onnx_file` '.*missing.onnx' does not exist"):
        resolve_runtime('onnxruntime', onnx_file=paths['good'] + '.missing.onnx')


def test_rules(files):
    """One function decides which backend runs which precision from which file."""
    _, paths = files
    good = paths['good']
    assert resolve_runtime('onnxruntime', onnx_file=good) == ('onnxruntime', 'f32', False)
    assert resolve_runtime('auto', device='cuda:0') == ('pytorch', None, False)
    assert resolve_runtime('auto', dtype='bfloat16') == ('pytorch', 'bf16', False)
    assert resolve_runtime('pytorch', dtype='float16', device='cuda:0').precision == 'fp16'
    assert resolve_runtime('onnxruntime', dtype='float32').precision == 'f32'
    cases = [
        (dict(backend='onnxruntime', precision='bf16'), "^`precision` 'bf16': backend"),
        (dict(backend='pytorch', precision='int8'), "^`precision` 'int8' needs backend"),
        (dict(backend='onnxruntime', dtype='bfloat16'), "^`backend` 'onnxruntime' runs its own"),
        (dict(backend='pytorch', onnx_file=good), '^`onnx_file` is read by backend'),
        (dict(backend='onnxruntime', precision='int8', onnx_file=good),
         '^`precision` int8 needs a quantized model'),
        (dict(backend='onnxruntime', precision='int8'), '^`precision` int8 needs a quantized'),
        (dict(backend='onnxruntime', device='cuda:0'), "^`backend` 'onnxruntime' runs on the CPU"),
        (dict(backend='tensorrt'), '^`backend` must be one of'),
        (dict(backend='pytorch', dtype='bfloat16', precision='f32'), '^`dtype` .* disagree'),
    ]
    for kwargs, match in cases:
        with pytest.raises(InputError, match=match):
            resolve_runtime(**kwargs)


@pytest.mark.e2e
@pytest.mark.parametrize('case', ['corrupt', 'truncated'])
def test_demo_names_the_bad_file(files, case, tmp_path):
    """``tools/demo.py --onnx BAD``: ``error: --onnx BAD is not a loadable ONNX model ...`` and
    the command that makes a right one, exit status 2, no protobuf traceback."""
    model, paths = files
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    for backend in ('onnxruntime', 'openvino') if openvino_available() else ('onnxruntime', ):
        proc = tool_main('demo.py', SAMPLE_CONFIG, ckpt, '--input', SAMPLE, '--backend', backend,
                         '--onnx', paths[case], '--out-dir', str(tmp_path / 'out'),
                         check=False)
        assert proc.returncode == 2 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: --onnx '{paths[case]}' is not a loadable ONNX model"), \
            last
        assert MAKE in last
