# Copyright (c) cpn_mm authors. All rights reserved.
"""The fast CPU inference paths against PyTorch float32 on the real sample: PyTorch bfloat16,
OpenVINO (f32, bf16, int8), ONNX Runtime int8 (calibrated on the sample's person crops) and
torch.compile (f32; one compilation, which takes a minute or more), each through MMEngine's
runner and CocoMetric (the runner's model a backend, ``cpn_mm.runtime.runtime_config``). The
accuracy bound: COCO AP with ground-truth and with detected boxes within 0.01 of PyTorch
float32 (the session's reference evaluation); the float32 graphs (OpenVINO f32, compiled f32)
give PyTorch's keypoints."""
import os.path as osp
import re
import warnings

import numpy as np
import pytest
import torch
from mmengine.config import Config

from cpn_mm.apis import calibration_crops, init_model
from cpn_mm.apis.evaluation import evaluate
from cpn_mm.runtime import (OpenVINOBackend, build_runtime, compile_model, cpu_capabilities,
                            is_quantized, keypoint_agreement)
from cpn_mm.utils import InputError
from ..helpers import ANN, DET_JSON, SAMPLE, SAMPLE_CONFIG, tool_main

AP_BOUND = 0.01

# name -> evaluate()'s inference-path arguments (onnx_file 'int8': the sample-calibrated file);
# 'dtype': the config's model.test_cfg.dtype (PyTorch eager bfloat16, no hook)
PATHS = {
    'pytorch bf16': dict(dtype='bfloat16'),
    'openvino f32': dict(backend='openvino', precision='f32'),
    'openvino bf16': dict(backend='openvino', precision='bf16'),
    'openvino int8': dict(backend='openvino', precision='int8', onnx_file='int8'),
    'onnxruntime int8': dict(backend='onnxruntime', precision='int8', onnx_file='int8'),
    'pytorch compiled f32': dict(backend='pytorch', precision='f32', compile=True),
}
# the float32 graphs: PyTorch's keypoints
FLOAT32 = ('openvino f32', 'pytorch compiled f32')
# ... but for this fraction of the coordinates at most (torch 2.1's compiled graph moved 1 of
# 4012 by 0.4 px once)
FLOAT32_FLIPS = 0.005


def test_int8_file_is_quantized(onnx_files):
    fp32, int8 = onnx_files
    assert not is_quantized(fp32) and is_quantized(int8)


def _config(dtype: str = None, batch_size: int = None) -> Config:
    cfg = Config.fromfile(SAMPLE_CONFIG)
    if dtype is not None:
        cfg.model.test_cfg.dtype = dtype
    if batch_size is not None:  # one batch: torch.compile compiles each batch size once
        cfg.test_dataloader.batch_size = batch_size
    return cfg


@pytest.mark.parametrize('path', list(PATHS))
def test_fast_path_keeps_the_sample_ap(path, sample_checkpoint, onnx_files, reference, tmp_path,
                                       record_property):
    _, ckpt = sample_checkpoint
    kwargs = dict(PATHS[path])
    if kwargs.get('onnx_file') == 'int8':
        kwargs['onnx_file'] = onnx_files[1]
    if kwargs.get('precision') == 'bf16' and kwargs['backend'] == 'openvino' \
            and 'BF16' not in cpu_capabilities():
        pytest.skip('this CPU has no bfloat16 in OpenVINO')
    cfg = _config(kwargs.pop('dtype', None), 64 if kwargs.get('compile') else None)
    # compiled: the detected boxes only (the larger set; each compilation takes a minute)
    for gt in ((False, ) if kwargs.get('compile') else (True, False)):
        got = evaluate(cfg, ckpt, str(tmp_path / str(gt)), gt, **kwargs)
        ref = reference[gt]
        diff = got['AP'] - ref['AP']
        record_property(f'AP_{"gt" if gt else "det"}_diff', diff)
        print(f'{path}, {"ground-truth" if gt else "detected"} boxes: AP {got["AP"]:.4f} vs '
              f'float32 {ref["AP"]:.4f} ({diff:+.4f})')
        assert abs(diff) <= AP_BOUND, (path, gt, got['AP'], ref['AP'])
        assert got['keypoints'].shape == ref['keypoints'].shape
        if path in FLOAT32:  # a float32 graph sums in another order: where two heatmap
            # values tie to rounding, the peak or its quarter-pixel shift may go the other way
            close = np.abs(got['keypoints'] - ref['keypoints']) <= 1e-3
            assert close.mean() >= 1 - FLOAT32_FLIPS, (path, gt, close.size - close.sum())
        with open(got['log_file']) as f:
            log = f.read()
        if path == 'pytorch bf16':  # the config's dtype, no hook
            assert 'inference through' not in log
            continue
        assert 'inference through ' + ('pytorch' if 'pytorch' in path else path.split()[0]) in log
        if kwargs.get('compile'):  # compiled, not fallen back to eager
            assert 'torch.compile: first calls (compilation) took' in log, log[-3000:]


def test_runtime_choice(sample_checkpoint, onnx_files):
    """auto: OpenVINO on the CPU (bf16 where the CPU has it, int8 for a quantized file);
    mismatches are refused naming the parameter."""
    config, ckpt = sample_checkpoint
    fp32, int8 = onnx_files
    model = init_model(config, ckpt)
    auto = build_runtime(model, 'auto', onnx_file=fp32)
    assert isinstance(auto, OpenVINOBackend)
    assert auto.precision == ('bf16' if 'BF16' in cpu_capabilities() else 'f32')
    assert build_runtime(model, 'auto', onnx_file=int8).precision == 'int8'
    with pytest.raises(InputError, match='^`precision` int8 needs a quantized model'):
        OpenVINOBackend(fp32, model, 'int8')
    with pytest.raises(InputError, match="^`onnx_file` .* is quantized"):
        OpenVINOBackend(int8, model, 'f32')
    with pytest.raises(InputError, match="^`precision` 'int8' needs backend"):
        build_runtime(model, 'pytorch', 'int8')
    with pytest.raises(InputError, match='^`precision` must be one of'):
        build_runtime(model, 'openvino', 'int4', fp32)
    with pytest.raises(InputError, match="^`compile` applies to the PyTorch backend"):
        build_runtime(model, 'openvino', onnx_file=fp32, compile=True)


def test_compile_falls_back_with_one_warning(sample_checkpoint):
    """A model that cannot be compiled runs eagerly after one warning, with the same output."""
    config, ckpt = sample_checkpoint
    eager = init_model(config, ckpt)
    model = init_model(config, ckpt)

    def failing_backend(graph_module, example_inputs):
        raise RuntimeError('no compiler on this machine')

    runtime = compile_model(model, backend=failing_backend)
    w, h = model.head.decoder.input_size
    x = torch.randn(2, 3, h, w)
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter('always')
        for _ in range(2):
            out = runtime.heatmaps(x)
    # ours only (torch 2.1 adds its own note when torch.compile's options change)
    messages = [str(c.message) for c in caught if str(c.message).startswith('torch.compile of')]
    assert len(messages) == 1 and 'no compiler on this machine' in messages[0], messages
    assert runtime.failure and 'fell back to eager' in runtime.runtime_name
    with torch.no_grad():
        torch.testing.assert_close(out, eager.head.forward(eager.extract_feat(x)))


def test_quantize_tool(sample_checkpoint, tmp_path):
    """tools/quantize.py (its command line runs in docs/inference.md): calibration on a COCO
    file's person crops, the int8 file, the calibration set size and the accuracy printed; a
    bad --calib stops with its name."""
    config, ckpt = sample_checkpoint
    out = str(tmp_path / 'cpn_int8.onnx')
    proc = tool_main('quantize.py', config, ckpt, '--calib', ANN, '--num-calib', '10', '--out',
                     out)
    assert is_quantized(out)
    assert f'calibrated on 10 crops (and their flips) of {ANN}' in proc.stdout, proc.stdout
    for backend in ('onnxruntime', 'openvino'):
        line = [x for x in proc.stdout.splitlines() if x.startswith(f'{backend} int8 vs')]
        assert line and 'within 1 px' in line[0], proc.stdout
    proc = tool_main('quantize.py', config, ckpt, '--calib', str(tmp_path / 'none'), '--out',
                     out, check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith('error: --calib'), proc.stderr


def test_calibration_from_a_folder(sample_checkpoint):
    """A folder of images: each image is one crop (its whole frame)."""
    config, ckpt = sample_checkpoint
    model = init_model(config, ckpt)
    crops = calibration_crops(model, SAMPLE)
    w, h = model.head.decoder.input_size
    assert tuple(crops.shape) == (4, 3, h, w)
    with pytest.raises(InputError, match='^`num` must be at least 1'):
        calibration_crops(model, SAMPLE, 0)


def test_int8_keypoints_near_float32(sample_checkpoint, onnx_files):
    """int8 (OpenVINO) against PyTorch float32, per keypoint on the sample's crops, without
    flip test: most keypoints within 1 px of the crop."""
    config, ckpt = sample_checkpoint
    model = init_model(config, ckpt)
    crops = calibration_crops(model, ANN)
    agree = keypoint_agreement(model, OpenVINOBackend(onnx_files[1], model, 'int8'), crops)
    print('openvino int8 vs float32:', agree)
    assert agree['within_1px'] >= 0.8, agree


def test_test_tool_backend(sample_checkpoint, onnx_files, tmp_path):
    """tools/test.py --backend openvino --precision int8 --onnx FILE: the runner's COCO
    evaluation through OpenVINO (its log read here; docs/inference.md runs the same command
    line); a bad --precision stops naming the option."""
    config, ckpt = sample_checkpoint
    work_dir = tmp_path / 'w'
    tool_main('test.py', config, ckpt, '--work-dir', str(work_dir), '--backend', 'openvino',
              '--precision', 'int8', '--onnx', onnx_files[1], '--cfg-options',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              'experiment_name=test_tool_backend')
    (log_file, ) = work_dir.glob('*/*.log')
    log = log_file.read_text()
    assert 'inference through openvino (int8' in log and 'coco/AP' in log, log[-2000:]
    proc = tool_main('test.py', config, ckpt, '--backend', 'openvino', '--precision', 'int4',
                     check=False)
    assert proc.returncode != 0 and 'error: --precision must be one of' in proc.stderr, \
        proc.stderr[-2000:]


def test_demo_defaults_to_openvino_and_prints_its_timing(sample_checkpoint, tmp_path):
    """tools/demo.py without --backend on a CPU with OpenVINO installed: OpenVINO (bf16 where
    the CPU has it), and the timing line (frames/s, detector and pose ms per frame)."""
    config, ckpt = sample_checkpoint
    proc = tool_main('demo.py', config, ckpt, '--input', osp.join(SAMPLE, '000000000785.jpg'),
                     '--bboxes', DET_JSON, '--out-dir', str(tmp_path))
    last = proc.stdout.strip().splitlines()[-1]
    precision = 'bf16' if 'BF16' in cpu_capabilities() else 'f32'
    assert re.match(r'1 frame\(s\) in [\d.]+ s \([\d.]+ frames/s\): detector 0\.0 ms/frame, '
                    r'pose [\d.]+ ms/frame for [\d.]+ person\(s\)/frame \(openvino '
                    rf'\({precision}, compiled for {precision}\)\)$', last), last
