# Copyright (c) cpn_mm authors. All rights reserved.
"""The inference backends are models: MMEngine's test loop (as the runner's model, built from
``runtime_config``) and ``mmpose.apis.inference_topdown`` run them as they run the PyTorch
model, with the PyTorch keypoints (float32 graphs). A model of the sample config with random
weights, saved as a checkpoint, is enough: no training."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmpose.apis import inference_topdown

from cpn_mm.apis import init_model
from cpn_mm.apis.evaluation import evaluate
from cpn_mm.runtime import (HeatmapBackend, OnnxRuntimeBackend, OpenVINOBackend,
                            TorchCompileBackend, export_onnx, openvino_available, runtime_config)
from ..helpers import SAMPLE, SAMPLE_CONFIG

IMAGE = osp.join(SAMPLE, '000000000785.jpg')
BOXES = np.array([[280, 44, 500, 391], [0, 0, 250, 333]], np.float32)


@pytest.fixture(scope='module')
def random_model(tmp_path_factory):
    """(model, checkpoint, float32 export) of the sample config with random weights."""
    torch.manual_seed(0)
    model = init_model(SAMPLE_CONFIG)
    folder = tmp_path_factory.mktemp('random_model')
    ckpt = str(folder / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=model.dataset_meta)), ckpt)
    return model, ckpt, export_onnx(model, str(folder / 'random.onnx'))


def _keypoints(runtime) -> np.ndarray:
    with torch.no_grad():
        samples = inference_topdown(runtime, IMAGE, BOXES)
    return np.concatenate([s.pred_instances.keypoints for s in samples])


def test_backends_run_in_inference_topdown(random_model):
    """``inference_topdown(backend, ...)``: the backend is an MMEngine ``BaseModel`` and gives
    the PyTorch float32 keypoints (flip test included)."""
    model, _, onnx_file = random_model
    ref = _keypoints(model)
    backends = [OnnxRuntimeBackend(onnx_file, model)]
    if openvino_available():
        backends.append(OpenVINOBackend(onnx_file, model, 'f32'))
    for backend in backends:
        assert isinstance(backend, BaseModel) and isinstance(backend, HeatmapBackend)
        np.testing.assert_allclose(_keypoints(backend), ref, atol=1e-3, err_msg=backend.name)


def test_a_pose_checkpoint_loads_into_a_backend(random_model):
    """The pose model's ``state_dict`` (keys ``backbone.*``...) loads into a backend's
    ``model``, as a runner's ``load_from`` does."""
    model, _, _ = random_model
    other = init_model(SAMPLE_CONFIG)
    backend = TorchCompileBackend(other)
    backend.load_state_dict(model.state_dict())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(backend.model.state_dict()[key], value)


@pytest.mark.e2e
def test_backend_is_the_runners_model(random_model, tmp_path):
    """MMEngine's runner builds the backend from ``runtime_config`` (no hook, no swapped
    ``runner.model``), loads the pose checkpoint into it, exports it at its first call and
    tests it: PyTorch's keypoints."""
    _, ckpt, _ = random_model
    backend = 'openvino' if openvino_available() else 'onnxruntime'
    cfg = runtime_config(dict(type='MixedPrecisionTopdownPoseEstimator'), backend, 'f32')
    assert cfg['type'] in ('OpenVINOBackend', 'OnnxRuntimeBackend') and cfg['onnx_file'] is None
    ref = evaluate(SAMPLE_CONFIG, ckpt, str(tmp_path / 'pytorch'), True)
    got = evaluate(SAMPLE_CONFIG, ckpt, str(tmp_path / backend), True, backend, 'f32')
    np.testing.assert_allclose(got['keypoints'], ref['keypoints'], atol=1e-3)
    with open(got['log_file']) as f:
        log = f.read()
    assert f'inference through {backend} (f32' in log, log[-2000:]
    assert osp.isfile(tmp_path / backend / 'deploy' / 'model.onnx')
