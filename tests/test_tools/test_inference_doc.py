# Copyright (c) cpn_mm authors. All rights reserved.
"""Every command of docs/inference.md, run as written: the bash blocks through bash and the
Python blocks through Python, from the repository root. The only substitutions: this Python for
``.venv/bin/python``, the session's sample checkpoint for ``work_dirs/coco_sample/epoch_15.pth``
and a temporary folder for the other ``work_dirs/`` outputs."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from ..helpers import REPO

DOC = osp.join(REPO, 'docs', 'inference.md')
CHECKPOINT = 'work_dirs/coco_sample/epoch_15.pth'


def blocks(language):
    with open(DOC) as f:
        text = f.read()
    return re.findall(rf'```{language}\n(.*?)```', text, flags=re.S)


def substitute(block, checkpoint, tmp_path):
    block = block.replace('.venv/bin/python', sys.executable)
    block = block.replace(CHECKPOINT, checkpoint)
    return re.sub(r'(?<![\w/])work_dirs/', f'{tmp_path}/', block)


def test_doc_has_the_commands():
    bash = '\n'.join(blocks('bash'))
    for command in ('tools/demo.py', '--backend onnxruntime', '--dtype bfloat16',
                    'model.test_cfg.dtype=bfloat16', 'tools/export_onnx.py',
                    'tools/vis_heatmaps.py', 'tools/analysis/get_flops.py', '--det-config',
                    '--backend openvino', 'tools/quantize.py', '--precision int8'):
        assert command in bash, command
    assert 'MMPoseInferencer' in '\n'.join(blocks('python'))
    assert 'build_runtime' in '\n'.join(blocks('python'))


@pytest.mark.parametrize('index', range(len(blocks('bash'))))
def test_doc_bash_block(sample_checkpoint, tmp_path, index):
    _, ckpt = sample_checkpoint
    script = substitute(blocks('bash')[index], ckpt, tmp_path)
    proc = subprocess.run(['bash', '-euo', 'pipefail', '-c', script], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert proc.returncode == 0, f'{script}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    assert 'Traceback' not in proc.stderr


@pytest.mark.parametrize('index', range(len(blocks('python'))))
def test_doc_python_block(sample_checkpoint, tmp_path, index):
    _, ckpt = sample_checkpoint
    script = substitute(blocks('python')[index], ckpt, tmp_path)
    proc = subprocess.run([sys.executable, '-c', script], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env=dict(os.environ))
    assert proc.returncode == 0, f'{script}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    assert proc.stdout.strip()
