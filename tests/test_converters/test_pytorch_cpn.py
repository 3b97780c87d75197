# Copyright (c) cpn_mm authors. All rights reserved.
"""pytorch-cpn -> cpn_mm: a real ``.pth.tar`` of the golden weights, converted, run on the golden
input and compared with pytorch-cpn's own outputs."""
import os.path as osp

import numpy as np
import pytest
import torch

from cpn_mm.converters import CheckpointConversionError, convert_pytorch_cpn
from ..helpers.golden import (PT_CONFIG, PT_DIR, REL_TOL, build_converted, conversion_error,
                              load_converted, load_fixture, recipe_arrays, relative_errors,
                              run_converted, write_pytorch_cpn_file)


def _compare(checkpoint: str):
    _, inputs, outputs, meta = load_fixture(PT_DIR)
    assert '1e-5' in meta['architecture']['bn_eps']
    model = build_converted(PT_CONFIG, checkpoint)
    global_hms, refine = run_converted(model, inputs)
    # pytorch-cpn returns the GlobalNet outputs coarsest first: global_0 is P5
    ours = {f'global_{3 - i}': h for i, h in enumerate(global_hms)}
    ours['refine'] = refine
    return relative_errors(ours, outputs)


def test_golden_outputs(pytorch_cpn_converted, record_property):
    """All five outputs within 2e-5 of their maximum."""
    errors = _compare(pytorch_cpn_converted[0])
    for k, v in errors.items():
        record_property(f'max_rel_err_{k}', v)
    print('pytorch-cpn max |ours - pytorch-cpn| / max |pytorch-cpn|:', errors)
    assert all(v <= REL_TOL for v in errors.values()), errors


def test_checkpoint_contents_and_parameter_count(pytorch_cpn_converted, pytorch_cpn_checkpoint):
    dst, meta = pytorch_cpn_converted
    ckpt = load_converted(dst, pytorch_cpn_checkpoint, 'pytorch-cpn: torch.save',
                          'convert_pytorch_cpn')
    assert ckpt['meta']['source_epoch'] == 32 and ckpt['meta']['folded_biases'] == []
    variables, _, _, _ = load_fixture(PT_DIR)
    assert meta['ignored_variables'] == 97  # num_batches_tracked
    assert meta['source_variables'] == len(variables) - 97
    model = build_converted(PT_CONFIG, dst)
    assert set(ckpt['state_dict']) == set(model.state_dict())
    assert sum(p.numel() for p in model.parameters()) == 27_406_826
    # the last bottleneck reads [P2, P3, P4, P5]; pytorch-cpn's concatenation is [P5, ..., P2]
    arrays = recipe_arrays(PT_DIR, 'OIHW')
    w = arrays['module.refine_net.final_predict.0.conv1.weight']
    np.testing.assert_array_equal(ckpt['state_dict']['head.final_block.conv1.weight'][:, :256],
                                  w[:, 768:])


def test_old_file_with_upsample_bias_and_legacy_format(tmp_path):
    """A pre-Sept.-2018 file (bias on the top-down 1x1 conv, torch's legacy file format, no
    num_batches_tracked): the bias is folded into BN and the outputs are the same."""
    arrays = recipe_arrays(PT_DIR, 'OIHW')
    arrays = {k: v for k, v in arrays.items() if not k.endswith('num_batches_tracked')}
    rng = np.random.default_rng(0)
    old = {}
    for k, v in arrays.items():
        old[k] = v
        if k.startswith('module.global_net.upsamples.') and k.endswith('.1.weight'):
            j = k.split('.')[3]
            bias = rng.uniform(-0.5, 0.5, v.shape[0]).astype(np.float32)
            old[f'module.global_net.upsamples.{j}.1.bias'] = bias
            # the same function: BN(Wx + b) with mean + b equals BN(Wx) with mean
            mean = f'module.global_net.upsamples.{j}.2.running_mean'
            arrays[mean] = arrays[mean] + bias
    src = write_pytorch_cpn_file(old, str(tmp_path / 'CPN50_old.pth.tar'), legacy=True)
    dst, meta = convert_pytorch_cpn(src, str(tmp_path / 'old.pth'))
    assert len(meta['folded_biases']) == 3
    errors = _compare(dst)
    assert all(v <= REL_TOL for v in errors.values()), errors


def test_wrong_keys_are_all_listed_and_nothing_written(tmp_path):
    arrays = recipe_arrays(PT_DIR, 'OIHW')
    del arrays['module.refine_net.final_predict.2.running_var']
    key = 'module.global_net.predict.0.3.weight'
    arrays[key] = arrays[key][:16]
    arrays['module.refine_net.extra.weight'] = np.zeros((4, 4, 1, 1), np.float32)
    src = write_pytorch_cpn_file(arrays, str(tmp_path / 'bad.pth.tar'))
    dst = tmp_path / 'out.pth'
    msg = conversion_error(convert_pytorch_cpn, src, str(dst))
    assert 'refine_net.extra.weight' in msg and '(unmapped)' in msg
    assert 'refine_net.final_predict.2.running_var' in msg and 'missing from the source' in msg
    assert ('global_net.predict.0.3.weight [16, 256, 3, 3] -> neck.predict_layers.3.1.conv.weight'
            ' expects [17, 256, 3, 3]') in msg
    assert not dst.exists()


def test_truncated_and_foreign_files(pytorch_cpn_checkpoint, tf_cpn_checkpoint, tmp_path):
    with open(pytorch_cpn_checkpoint, 'rb') as f:
        data = f.read()
    cut = tmp_path / 'truncated.pth.tar'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointConversionError, match=r'cannot read .* \(truncated, corrupt'):
        convert_pytorch_cpn(str(cut), str(tmp_path / 'a.pth'))
    # a TF checkpoint's index given to the PyTorch converter
    with pytest.raises(CheckpointConversionError, match='cannot read .* as a PyTorch checkpoint'):
        convert_pytorch_cpn(tf_cpn_checkpoint + '.index', str(tmp_path / 'b.pth'))
    # a PyTorch file of another network (torchvision's ResNet-18 layout, no CPN keys)
    import torchvision
    other = tmp_path / 'resnet18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), other)
    with pytest.raises(CheckpointConversionError, match='not a pytorch-cpn checkpoint'):
        convert_pytorch_cpn(str(other), str(tmp_path / 'c.pth'))
    # a pickled object that is not tensors and plain containers: refused, not executed
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'model': torch.nn.Linear(1, 1)},
               tmp_path / 'pickled.pth')
    with pytest.raises(CheckpointConversionError, match='other than tensors'):
        convert_pytorch_cpn(str(tmp_path / 'pickled.pth'), str(tmp_path / 'd.pth'))
    with pytest.raises(CheckpointConversionError, match='no such file'):
        convert_pytorch_cpn(str(tmp_path / 'none.pth.tar'), str(tmp_path / 'e.pth'))
    assert not list(tmp_path.glob('*.pth.part')) and not list(tmp_path.glob('[a-e].pth'))


def test_config_option(pytorch_cpn_checkpoint, tmp_path):
    """``config=``: the mapping is checked against that config's model; a config of the other
    source's layout is refused with the keys that do not fit."""
    from ..helpers.golden import TF_CONFIG
    dst, _ = convert_pytorch_cpn(pytorch_cpn_checkpoint, str(tmp_path / 'ok.pth'),
                                 config=PT_CONFIG.replace('256x192', '384x288'))
    assert osp.isfile(dst)
    with pytest.raises(CheckpointConversionError, match='does not have the layout') as info:
        convert_pytorch_cpn(pytorch_cpn_checkpoint, str(tmp_path / 'bad.pth'), config=TF_CONFIG)
    assert 'neck.merge_convs.0.conv.weight' in str(info.value)
    assert not (tmp_path / 'bad.pth').exists()
    with pytest.raises(CheckpointConversionError, match='--config: no such config file'):
        convert_pytorch_cpn(pytorch_cpn_checkpoint, str(tmp_path / 'bad.pth'),
                            config=str(tmp_path / 'none.py'))
