# Copyright (c) cpn_mm authors. All rights reserved.
"""cpn_mm.apis names its parameters in its errors (no command-line flag appears in the
library); the tools translate them to their options. ``cpn_mm.apis.__all__`` lists what a user
calls."""
import glob
import os.path as osp
import re

import pytest

import cpn_mm.apis
from cpn_mm.apis import InputError, OnnxRuntimeBackend, init_model, set_inference_dtype
from ..helpers import REPO, SAMPLE, SAMPLE_CONFIG, tool_main


def test_no_command_line_flags_in_the_library():
    for path in glob.glob(osp.join(REPO, 'cpn_mm', 'apis', '*.py')) + \
            glob.glob(osp.join(REPO, 'cpn_mm', 'runtime', '*.py')):
        with open(path) as f:
            text = f.read()
        for flag in ('--dtype', '--onnx', '--verify-ann', '--bboxes', '--input', '--det-',
                     '--precision', '--backend', '--compile', '--calib'):
            assert flag not in text, (path, flag)
        # no message built from a flag either
        assert not re.search(r'''Error\(f?['"]--''', text), path


def test_public_api_is_what_a_user_calls():
    assert sorted(cpn_mm.apis.__all__) == sorted([
        'init_model', 'set_inference_dtype', 'prepare_crops', 'sample_crops', 'export_onnx',
        'verify_onnx', 'OnnxRuntimeBackend', 'OpenVINOBackend', 'calibration_crops',
        'quantize_onnx', 'compile_model', 'build_runtime', 'complexity', 'config_complexity',
        'run_demo', 'InputError', 'run_demo_3d', 'init_lifter', 'keypoint_conversion', 'lift',
        'export_2d_for_lifting', 'PoseTracker'])
    assert all(hasattr(cpn_mm.apis, name) for name in cpn_mm.apis.__all__)


def test_library_errors_name_parameters(tmp_path):
    model = init_model(SAMPLE_CONFIG)
    with pytest.raises(InputError, match='^`dtype` must be one of'):
        set_inference_dtype(model, 'int8')
    with pytest.raises(InputError, match="^`onnx_file` '.*missing.onnx' does not exist"):
        OnnxRuntimeBackend(str(tmp_path / 'missing.onnx'), model)
    error = InputError("`onnx_file` 'x.onnx' does not exist; `dtype` too")
    assert error.for_command_line(dict(onnx_file='--onnx', dtype='--dtype')) == \
        "--onnx 'x.onnx' does not exist; --dtype too"


def test_tools_translate_parameters_to_options(sample_checkpoint, tmp_path):
    config, ckpt = sample_checkpoint
    missing = str(tmp_path / 'missing.onnx')
    proc = tool_main('demo.py', config, ckpt, '--input', SAMPLE, '--backend', 'onnxruntime',
                    '--onnx', missing, '--out-dir', str(tmp_path / 'out'), check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: --onnx '{missing}' does not exist"), proc.stderr
    proc = tool_main('export_onnx.py', config, ckpt, '--out', str(tmp_path / 'a.onnx'),
                    '--verify-ann', str(tmp_path / 'none.json'), check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]  # after the export's tracer warnings
    assert last.startswith('error: --verify-ann') and 'none.json' in last, proc.stderr
