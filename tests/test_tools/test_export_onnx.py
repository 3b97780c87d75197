# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/export_onnx.py (cpn_mm.apis.export_onnx / verify_onnx): export, onnxruntime parity on
the sample crops, dynamic batch, the ONNX Runtime backend's checks."""
import os
import sys

import numpy as np
import pytest
import torch

from cpn_mm.apis import (InputError, OnnxRuntimeBackend, export_onnx, init_model, sample_crops,
                         verify_onnx)
from ..helpers import ANN, SAMPLE_CONFIG, tool_main


def test_export_onnx_parity(sample_checkpoint, tmp_path):
    """tools/export_onnx.py (its command line runs in docs/inference.md)."""
    import onnx
    import onnxruntime as ort
    config, ckpt = sample_checkpoint
    out = str(tmp_path / 'cpn.onnx')
    proc = tool_main('export_onnx.py', config, ckpt, '--out', out)
    assert 'decoded keypoints identical' in proc.stdout
    model = onnx.load(out)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch' and [d.dim_value for d in dims[1:]] == [3, 192, 144]
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    for b in (1, 3):
        x = np.random.default_rng(b).standard_normal((b, 3, 192, 144)).astype(np.float32)
        assert sess.run(None, {'input': x})[0].shape == (b, 17, 48, 36)

    # the same through the package: the 12 annotated persons of the sample
    pose = init_model(config, ckpt)
    # only what inference needs: every conv module once, except the GlobalNet's 2 x L heatmap
    # predictor convs (absent) and the RefineNet's last bottleneck, whose conv1 and projection
    # conv run per level (L convs each)
    L = pose.neck.num_levels
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in pose.modules())
    assert sum(n.op_type == 'Conv' for n in model.graph.node) == convs - 2 * L - 2 + 2 * L
    report = verify_onnx(pose, out, sample_crops(pose, ANN))
    assert report['num_crops'] == 12
    assert report['max_abs_diff'] < 1e-3
    assert report['num_keypoints_differing'] == 0


def test_onnxruntime_backend_rejects_other_models(sample_checkpoint, tmp_path):
    """An ONNX file of another input size, or not an ONNX file: errors naming the parameter
    (the demo translates it to --onnx)."""
    config, ckpt = sample_checkpoint
    pose = init_model(config, ckpt)
    other = init_model(config, ckpt, cfg_options=dict(
        model=dict(head=dict(decoder=dict(input_size=(96, 128), heatmap_size=(24, 32))),
                   neck=dict(heatmap_size=(24, 32)))))
    small = export_onnx(other, str(tmp_path / 'small.onnx'))
    with pytest.raises(InputError, match=r'`onnx_file` .* takes crops \[3, 128, 96\]'):
        OnnxRuntimeBackend(small, pose)
    junk = tmp_path / 'junk.onnx'
    junk.write_bytes(os.urandom(64))
    with pytest.raises(InputError, match='`onnx_file` .* not a loadable ONNX model'):
        OnnxRuntimeBackend(str(junk), pose)


def test_export_onnx_missing_onnx_is_clear(tmp_path, monkeypatch):
    """Without onnx installed (its import fails) the tool says so, before loading anything."""
    config, ckpt = SAMPLE_CONFIG, str(tmp_path / 'any.pth')
    open(ckpt, 'wb').close()
    monkeypatch.setitem(sys.modules, 'onnx', None)  # `import onnx` raises ImportError
    proc = tool_main('export_onnx.py', config, ckpt, check=False)
    assert proc.returncode == 2
    assert 'onnx not installed' in proc.stderr and 'Traceback' not in proc.stderr
