# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/setup_env.sh resolves every path it is given to an absolute one, and decides how mmcv is
compiled (``--plan`` prints both and does nothing). A relative ``VENV`` once broke the first
command of every new user: the script ``cd``s into mmcv's sources to compile them."""
import os
import os.path as osp
import subprocess

import pytest

from .helpers import REPO

SCRIPT = osp.join(REPO, 'tools', 'setup_env.sh')


def plan(cwd, **env) -> dict:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ('VENV', 'CPN_MM_CACHE', 'PYTHON', 'CUDA_HOME', 'XDG_CACHE_HOME',
                             'STACK')}
    full_env.update(env)
    out = subprocess.run(['bash', SCRIPT, '--plan'], cwd=cwd, env=full_env, check=True,
                         capture_output=True, text=True).stdout
    return dict(line.split('=', 1) for line in out.splitlines())


def test_relative_home_and_spaced_paths_become_absolute(tmp_path):
    cwd = tmp_path / 'some dir'
    cwd.mkdir()
    home = tmp_path / 'home with space'
    p = plan(str(cwd), HOME=str(home), VENV='.venv', CPN_MM_CACHE='~/my cache/../cpn cache',
             PYTHON='../bin/python3.11', CPN_MM_TORCH_CUDA='0')
    assert p['VENV'] == str(cwd / '.venv')
    assert p['CACHE'] == str(home / 'cpn cache')
    assert p['WHEELS'] == str(home / 'cpn cache' / 'wheels')
    assert p['PYTHON'] == str(tmp_path / 'bin' / 'python3.11')
    assert p['ROOT'] == REPO
    for key in ('VENV', 'CACHE', 'WHEELS', 'PYTHON', 'MMCV_WHEELS'):
        assert osp.isabs(p[key]), (key, p[key])


def test_defaults_are_absolute(tmp_path):
    p = plan(str(tmp_path), HOME=str(tmp_path / 'h'), CPN_MM_TORCH_CUDA='0')
    assert p['VENV'] == osp.join(REPO, '.venv')
    assert p['CACHE'] == str(tmp_path / 'h' / '.cache' / 'cpn_mm')
    assert osp.isabs(p['PYTHON'])  # python3.11 (or python3) looked up on PATH


def test_accepts_the_pythons_setup_py_declares(tmp_path):
    from importlib.metadata import metadata
    p = plan(str(tmp_path), HOME=str(tmp_path / 'h'), CPN_MM_TORCH_CUDA='0')
    assert f">={p['PYTHON_MIN']}" == metadata('cpn_mm')['Requires-Python']


def fake_nvcc(folder, works=True):
    folder.mkdir(parents=True, exist_ok=True)
    nvcc = folder / 'nvcc'
    nvcc.write_text('#!/bin/sh\n' + ('echo "Cuda compilation tools, release 13.0"\n' if works
                                     else 'exec /nonexistent/cuda/bin/nvcc "$@"\n'))
    nvcc.chmod(0o755)
    return str(folder)


# PATH without any real CUDA toolkit: a system folder and the interpreter's
BASE_PATH = os.pathsep.join(['/usr/bin', '/bin', osp.dirname(os.path.realpath(
    subprocess.run(['bash', '-c', 'command -v python3'], capture_output=True,
                   text=True).stdout.strip() or '/usr/bin/python3'))])


@pytest.mark.parametrize('torch_cuda, nvcc, mode', [
    ('0', None, 'cpu'),
    ('0', 'works', 'cpu'),                 # no GPU: never the CUDA ops
    ('1', 'works', 'cuda'),                # GPU and a CUDA compiler: the CUDA ops
    ('1', None, 'cpu-hidden-gpu'),         # GPU, no compiler: CPU ops, GPU hidden from the build
    ('1', 'broken', 'cpu-hidden-gpu'),     # an nvcc wrapper without a toolkit behind it
])
def test_mmcv_build_decision(tmp_path, torch_cuda, nvcc, mode):
    path = BASE_PATH
    if nvcc:
        path = fake_nvcc(tmp_path / 'cuda' / 'bin', works=nvcc == 'works') + os.pathsep + path
    p = plan(str(tmp_path), PATH=path, CPN_MM_TORCH_CUDA=torch_cuda, HOME=str(tmp_path))
    assert p['MMCV_BUILD'] == mode
    if mode == 'cuda':
        assert 'FORCE_CUDA=1' in p['MMCV_BUILD_ENV']
        assert p['MMCV_BUILD_ENV'].endswith(str(tmp_path / 'cuda' / 'bin' / 'nvcc'))
        assert p['MMCV_WHEELS'].endswith('/wheels/mmcv-cuda-torch2.14.1')
    else:
        # mmcv's setup.py builds CUDA ops whenever torch sees a GPU: hide it, FORCE_CUDA=0 alone
        # does not stop it
        assert p['MMCV_BUILD_ENV'] == 'MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES='
        assert p['MMCV_WHEELS'].endswith('/wheels/mmcv-cpu-torch2.14.1')


def test_cuda_home_nvcc_is_found(tmp_path):
    fake_nvcc(tmp_path / 'cuda' / 'bin')
    p = plan(str(tmp_path), PATH=BASE_PATH, CPN_MM_TORCH_CUDA='1',
             CUDA_HOME=str(tmp_path / 'cuda'), HOME=str(tmp_path))
    assert p['MMCV_BUILD'] == 'cuda'


def _stack_pins(name):
    with open(osp.join(REPO, 'requirements', 'stacks', f'{name}.txt')) as f:
        return dict(line.strip().split('==') for line in f if '==' in line)


@pytest.mark.parametrize('stack, venv, torch', [
    (None, '.venv', _stack_pins('pinned')['torch']),
    ('pinned', '.venv', _stack_pins('pinned')['torch']),
    ('torch2.1', '.venv-torch2.1', '2.1.2'),
])
def test_stacks_get_their_own_venv_and_mmcv_build(tmp_path, stack, venv, torch):
    """Each stack has its venv and its mmcv wheels (mmcv's ops are compiled against one torch)."""
    env = dict(HOME=str(tmp_path), CPN_MM_TORCH_CUDA='0')
    if stack:
        env['STACK'] = stack
    p = plan(str(tmp_path), **env)
    assert p['STACK'] == (stack or 'pinned')
    assert p['TORCH'] == torch
    assert p['VENV'] == osp.join(REPO, venv)
    assert p['MMCV_WHEELS'] == str(tmp_path / '.cache' / 'cpn_mm' / 'wheels' /
                                   f'mmcv-cpu-torch{torch}')


def test_unknown_stack_is_refused_naming_the_known_ones(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'VENV'}
    env['STACK'] = 'torch1.13'
    proc = subprocess.run(['bash', SCRIPT, '--plan'], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'STACK=torch1.13' in proc.stderr and 'pinned' in proc.stderr
    assert 'torch2.1' in proc.stderr
