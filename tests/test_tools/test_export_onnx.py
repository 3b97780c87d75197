# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/export_onnx.py: export, onnxruntime parity on the sample crops, dynamic batch."""
import os.path as osp
import subprocess
import sys

import numpy as np

from ..conftest import REPO, SAMPLE_CONFIG
from ._helpers import load_tool


def test_export_onnx_parity(sample_checkpoint, tmp_path):
    import onnx
    import onnxruntime as ort
    tool = load_tool('export_onnx.py')
    config, ckpt = sample_checkpoint
    out = str(tmp_path / 'cpn.onnx')
    summary = tool.main([config, ckpt, '--out', out])
    assert summary['num_crops'] == 12  # the sample's annotated persons
    assert summary['max_abs_diff'] < 1e-3
    assert summary['num_keypoints_differing'] == 0
    model = onnx.load(out)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch' and [d.dim_value for d in dims[1:]] == [3, 192, 144]
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    for b in (1, 3):
        x = np.random.default_rng(b).standard_normal((b, 3, 192, 144)).astype(np.float32)
        assert sess.run(None, {'input': x})[0].shape == (b, 17, 48, 36)


def test_export_onnx_missing_onnx_is_clear(tmp_path):
    """Without onnx installed (shadowed by a package that fails to import) the tool says so,
    before loading anything."""
    config, ckpt = SAMPLE_CONFIG, str(tmp_path / 'any.pth')
    open(ckpt, 'wb').close()
    shadow = tmp_path / 'shadow'
    (shadow / 'onnx').mkdir(parents=True)
    (shadow / 'onnx' / '__init__.py').write_text('raise ImportError("onnx is not installed")\n')
    env = dict(__import__('os').environ, PYTHONPATH=str(shadow))
    proc = subprocess.run([sys.executable, osp.join('tools', 'export_onnx.py'), config, ckpt],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'onnx not installed' in proc.stderr and 'Traceback' not in proc.stderr
