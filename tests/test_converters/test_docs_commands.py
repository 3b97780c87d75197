# Copyright (c) cpn_mm authors. All rights reserved.
"""docs/converted_models.md, command by command, on the rebuilt golden checkpoints: conversion,
tools/test.py (on the sample instead of COCO), tools/demo.py, tools/export_onnx.py, and
MMPoseInferencer with a converted checkpoint."""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
import torch

from ..helpers import REPO, script_main
from ..helpers.golden import SAFE_LOAD

pytestmark = pytest.mark.e2e

DOC = osp.join(REPO, 'docs', 'converted_models.md')
# tools/test.py on the embedded sample (ground-truth boxes) instead of COCO val2017
SAMPLE_TEST = [
    '--cfg-options', 'test_dataloader.dataset.data_root=data/coco_sample/',
    'test_dataloader.dataset.ann_file=test_coco.json', 'test_dataloader.dataset.bbox_file=None',
    'test_dataloader.dataset.data_prefix.img=', 'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'test_evaluator.ann_file=data/coco_sample/test_coco.json'
]


def doc_commands(tool: str):
    """The ``python <tool> ...`` lines of the document's bash blocks, split as a shell would."""
    with open(DOC) as f:
        blocks = re.findall(r'```bash\n(.*?)```', f.read(), re.S)
    lines = [ln.split('#')[0].strip() for b in blocks for ln in b.replace('\\\n', ' ').splitlines()]
    return [shlex.split(ln) for ln in lines if ln.startswith(f'python {tool}')]


def run_in(root, argv, timeout=600):
    """Run a documented command from ``root`` (``python`` = this interpreter, cpn_mm from this
    checkout) as its command line; returns its stdout. The converters run this way (their
    one command-line run); the other tools' command lines run in docs/inference.md's test."""
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + argv[1:], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f'{argv} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc.stdout


def run_here(root, argv):
    """Run a documented ``python <tool> ...`` command in this process, from ``root``
    (:func:`script_main`); returns its stdout."""
    return script_main(argv[1], *argv[2:], cwd=str(root)).stdout


@pytest.fixture(scope='module')
def docs_root(tmp_path_factory, tf_cpn_checkpoint, pytorch_cpn_checkpoint):
    """A directory laid out as the document assumes: the repository's tools/configs/data and the
    downloaded files next to them (the rebuilt golden checkpoints); the conversion commands run
    in it as written."""
    root = tmp_path_factory.mktemp('docs_root')
    for name in ('tools', 'configs', 'data'):
        os.symlink(osp.join(REPO, name), root / name)
    folder = root / 'COCO.res50.256x192.CPN'
    folder.mkdir()
    for suffix in ('.index', '.data-00000-of-00001'):
        os.symlink(tf_cpn_checkpoint + suffix, folder / (osp.basename(tf_cpn_checkpoint) + suffix))
    os.symlink(pytorch_cpn_checkpoint, root / 'CPN256x192.pth.tar')
    commands = doc_commands('tools/model_converters/')
    assert [c[1] for c in commands] == ['tools/model_converters/tf_cpn2mmpose.py',
                                        'tools/model_converters/pytorch_cpn2mmpose.py']
    outputs = [run_in(root, c) for c in commands]
    return root, commands, outputs


def test_conversion_commands(docs_root, tf_cpn_converted, pytorch_cpn_converted):
    root, commands, outputs = docs_root
    for command, stdout, (api_dst, _) in zip(commands, outputs,
                                            [tf_cpn_converted, pytorch_cpn_converted]):
        dst = root / command[3]
        assert f'-> {dst}' in stdout
        ours = torch.load(dst, map_location='cpu', weights_only=SAFE_LOAD)['state_dict']
        api = torch.load(api_dst, map_location='cpu', weights_only=SAFE_LOAD)['state_dict']
        assert list(ours) == list(api) and all(torch.equal(ours[k], api[k]) for k in api)


def test_command_line_error_is_one_clear_line(docs_root, tmp_path):
    root, _, _ = docs_root
    for tool in ('tf_cpn2mmpose.py', 'pytorch_cpn2mmpose.py'):
        proc = script_main(f'tools/model_converters/{tool}', str(tmp_path / 'missing'),
                           str(tmp_path / 'out.pth'), cwd=str(root), check=False)
        assert proc.returncode == 1 and proc.stderr.startswith('error: ')
        assert 'Traceback' not in proc.stderr and str(tmp_path / 'missing') in proc.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_test_tool_round_trip(docs_root):
    """The document's tools/test.py commands, on the sample instead of COCO."""
    root, _, _ = docs_root
    commands = doc_commands('tools/test.py')
    assert len(commands) == 2
    for i, command in enumerate(commands):
        out = root / f'metrics{i}.json'
        run_here(root, command + ['--out', str(out)] + SAMPLE_TEST)
        with open(out) as f:
            ap = json.load(f)['coco/AP']
        assert -1 <= ap <= 1  # stand-in weights: the number means nothing, the run does


def test_demo_command(docs_root):
    root, _, _ = docs_root
    (demo, ) = doc_commands('tools/demo.py')
    run_here(root, demo)
    out_dir = root / demo[demo.index('--out-dir') + 1]
    with open(out_dir / 'predictions.json') as f:
        preds = json.load(f)
    assert preds and all(len(p['keypoints']) == 17 * 3 for p in preds)
    assert (out_dir / '000000000785.jpg').is_file()


def test_onnx_export_command(docs_root):
    """The document's export command; the tool's own check (identical decoded keypoints on the
    sample crops) is replaced by one on the golden input: with stand-in weights the heatmaps
    have near-ties that float rounding may break either way."""
    import numpy as np
    import onnxruntime as ort

    from ..helpers.golden import TF_CONFIG, TF_DIR, build_converted, load_fixture, run_converted
    root, _, _ = docs_root
    (export, ) = doc_commands('tools/export_onnx.py')
    run_here(root, export + ['--no-verify'])
    onnx_file = str(root / export[export.index('--out') + 1])
    _, inputs, _, _ = load_fixture(TF_DIR)
    sess = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    ours = sess.run(None, {'input': inputs})[0]
    _, refine = run_converted(build_converted(TF_CONFIG, str(root / export[3])), inputs)
    assert np.abs(ours - refine).max() <= 1e-5 * np.abs(refine).max()


def test_inferencer(docs_root):
    root, _, _ = docs_root
    from mmpose.apis import MMPoseInferencer
    inferencer = MMPoseInferencer(
        pose2d=str(root / 'configs/tf-cpn/tf-cpn_r50_coco_256x192.py'),
        pose2d_weights=str(root / 'checkpoints/tf-cpn_r50_coco_256x192.pth'),
        det_model='whole_image', device='cpu')
    assert inferencer.inferencer.model.neck.resize_mode == 'asymmetric'
    result = next(inferencer(str(root / 'data/coco_sample/000000000785.jpg')))
    assert len(result['predictions'][0]) == 1
    assert len(result['predictions'][0][0]['keypoints']) == 17
