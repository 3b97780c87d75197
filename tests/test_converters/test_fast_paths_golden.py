# Copyright (c) cpn_mm authors. All rights reserved.
"""The fast inference paths on the converted golden models, against the original networks'
own RefineNet output on the golden input (a crop and its flip).

float32 path (OpenVINO f32): the keypoints decoded from its heatmaps are within 1 px (of the
256x192 crop) of those decoded from the original output.

bfloat16 and int8 paths: the stand-in weights give heatmaps without a clear peak (the best
location outside the argmax's 3x3 neighbourhood is within 0.07-4% of a map's range of the
maximum), below what bfloat16 or int8 rounding moves a heatmap (measured up to 5% and 19% of
a map's range), so their decoded keypoints are not comparable here. What is tested: their
heatmaps stay within those bounds of the original's and correlate with it (a broken export or
quantization fails both). Their keypoint accuracy is tested on a trained model
(``tests/test_tools/test_fast_paths.py``: COCO AP of the sample within 0.01 of float32).
int8 is calibrated on the sample's person crops through the converted config's pipeline, on
the tf-cpn fixture only (its graph, with tf-cpn's resizes, is the less usual one; quantizing
the other converted model would test the same code on the same architecture)."""
import os.path as osp

import numpy as np
import pytest
import torch
from torch import nn

from cpn_mm.apis import (OnnxRuntimeBackend, OpenVINOBackend, calibration_crops, export_onnx,
                         init_model, quantize_onnx)
from cpn_mm.runtime import cpu_capabilities
from ..helpers import SAMPLE
from ..helpers.golden import PT_CONFIG, PT_DIR, TF_CONFIG, TF_DIR, load_fixture

BOUND_PX = 1.0
# path -> (largest error of a map relative to the map's range, smallest correlation)
REDUCED = {'openvino bf16': (0.08, 0.999), 'openvino int8': (0.3, 0.99),
           'onnxruntime int8': (0.3, 0.99)}
INT8_FIXTURE = 'tf-cpn'


def _model(config: str, checkpoint: str, folder: str) -> nn.Module:
    """The converted model with the config's pipeline; for tf-cpn with the fixture's BN
    epsilon (1e-9), as the golden outputs were made."""
    model = init_model(config, checkpoint)
    _, _, _, meta = load_fixture(folder)
    eps = (meta.get('graph_checks') or {}).get('bn_op_epsilons')
    if eps:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eps = eps[0]
    return model


@pytest.fixture(scope='module', params=['tf-cpn', 'pytorch-cpn'])
def golden_paths(request, tmp_path_factory):
    """(fixture name, model, golden refine output, {path: heatmaps of the golden input})."""
    if request.param == 'tf-cpn':
        ckpt = request.getfixturevalue('tf_cpn_converted')[0]
        config, folder = TF_CONFIG, TF_DIR
    else:
        ckpt = request.getfixturevalue('pytorch_cpn_converted')[0]
        config, folder = PT_CONFIG, PT_DIR
    model = _model(config, ckpt, folder)
    _, inputs, outputs, _ = load_fixture(folder)
    x = torch.from_numpy(inputs)
    tmp = tmp_path_factory.mktemp(request.param)
    fp32 = export_onnx(model, str(tmp / 'fp32.onnx'))
    heatmaps = {'openvino f32': OpenVINOBackend(fp32, model, 'f32').heatmaps(x)}
    if request.param == INT8_FIXTURE:
        crops = calibration_crops(model, osp.join(SAMPLE, 'test_coco.json'))
        int8 = quantize_onnx(fp32, str(tmp / 'int8.onnx'), crops)['out']
        heatmaps['openvino int8'] = OpenVINOBackend(int8, model, 'int8').heatmaps(x)
        heatmaps['onnxruntime int8'] = OnnxRuntimeBackend(int8, model).heatmaps(x)
    if 'BF16' in cpu_capabilities():
        heatmaps['openvino bf16'] = OpenVINOBackend(fp32, model, 'bf16').heatmaps(x)
    return request.param, model, outputs['refine'], {k: v.numpy() for k, v in heatmaps.items()}


def test_float32_paths_decode_within_1px(golden_paths, record_property):
    """OpenVINO f32 on both fixtures (the compiled PyTorch model gives eager PyTorch's
    keypoints on the sample: tests/test_tools/test_fast_paths.py)."""
    name, model, refine, heatmaps = golden_paths
    paths = ['openvino f32']
    codec = model.head.decoder
    k_ref, _ = codec.batch_decode(refine)
    for path in paths:
        k_got, _ = codec.batch_decode(heatmaps[path])
        d = np.linalg.norm(k_got - k_ref, axis=-1)
        record_property(f'max_px {path}', float(d.max()))
        print(f'{name} {path}: decoded keypoints vs the original network\'s, max {d.max():.3f} px')
        assert d.max() <= BOUND_PX, (name, path, d.max())


def test_reduced_precision_heatmaps_near_the_original(golden_paths, record_property):
    """OpenVINO bf16 (where the CPU has it) on both fixtures, the int8 paths on
    :data:`INT8_FIXTURE`'s."""
    name, _, refine, heatmaps = golden_paths
    paths = [p for p in REDUCED if p in heatmaps]
    if not paths:
        pytest.skip('this CPU has no bfloat16 in OpenVINO (int8: on the tf-cpn fixture)')
    n, k = refine.shape[:2]
    span = np.ptp(refine.reshape(n, k, -1), axis=-1)
    for path in paths:
        got = heatmaps[path]
        rel = float((np.abs(got - refine).reshape(n, k, -1).max(-1) / span).max())
        corr = float(np.corrcoef(got.ravel(), refine.ravel())[0, 1])
        record_property(f'max_error_of_range {path}', rel)
        record_property(f'correlation {path}', corr)
        print(f'{name} {path}: heatmap error up to {rel:.3f} of a map\'s range, correlation '
              f'{corr:.5f}')
        bound, min_corr = REDUCED[path]
        assert rel <= bound and corr >= min_corr, (name, path, rel, corr)
