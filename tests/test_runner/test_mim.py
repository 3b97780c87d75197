# Copyright (c) cpn_mm authors. All rights reserved.
"""``mim train/test`` on the README's install routes (README "mim"), each run one iteration:

- a regular ``pip install .``: the wheel, installed into a folder put first on ``PYTHONPATH``;
  ``mim train cpn_mm <config name>`` runs the wheel's ``cpn_mm/.mim`` tool and config (``mim
  test`` finds its tool the same way: ``<package>/.mim/tools``);
- this environment's own install (``make``: tools/setup_env.sh's ``setup.py develop``):
  ``mim test cpn_mm <config name>``;
- any install: ``mim test mmpose configs/...`` (MMPose's tools, cpn_mm through the config's
  ``custom_imports``).

mim 0.3.9 finds a package at ``<its distribution's location>/<name>``, which a PEP 660 editable
install does not have (open-mmlab/mim#114); the README names ``mim ... mmpose`` for that case.
"""
import os
import os.path as osp
import shutil
import zipfile

import mmengine
import pytest
import torch

from ..helpers import EVAL_FAST, PY, REPO, SAMPLE_CONFIG, TRAIN_FAST, run

pytestmark = pytest.mark.e2e

CONFIG_NAME = osp.basename(SAMPLE_CONFIG)
# what setup.py's add_mim_extension puts into cpn_mm/.mim, and what building the wheel reads
SOURCES = ('setup.py', 'README.md', 'requirements', 'cpn_mm', 'configs', 'tools', 'data',
           'model-index.yml')
# one iteration on 2 of the sample's persons
TRAIN = ['--no-validate', '--cfg-options', 'train_cfg.max_epochs=1',
         'default_hooks.checkpoint.save_best=None', 'default_hooks.checkpoint.interval=1',
         'train_dataloader.dataset.datasets.0.dataset.indices=2', *TRAIN_FAST]
# the 12 persons' ground-truth boxes in one batch, no flip test
TEST = ['--cfg-options', 'test_dataloader.dataset.bbox_file=None', 'model.test_cfg.flip_test=False',
        *EVAL_FAST]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    """The wheel ``pip install .`` builds, built from a copy of the sources: building writes
    copies into ``cpn_mm/.mim``, which would replace an editable install's links there."""
    src = tmp_path_factory.mktemp('src')
    for name in SOURCES:
        path = osp.join(REPO, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns('.mim', '__pycache__', '*.egg-info'))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp('wheel')
    run([PY, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w', str(out),
         str(src)], timeout=120)
    (wheel, ) = os.listdir(out)
    return str(out / wheel)


@pytest.fixture(scope='module')
def wheel_site(wheel, tmp_path_factory) -> str:
    """The wheel installed into a folder of its own (``pip install --target``)."""
    site = str(tmp_path_factory.mktemp('site'))
    run([PY, '-m', 'pip', 'install', '-q', '--no-deps', '--target', site, wheel], timeout=120)
    return site


@pytest.fixture(scope='module')
def mim_trained(wheel_site, tmp_path_factory) -> str:
    """``mim train cpn_mm <config name>`` with cpn_mm from its wheel: the checkpoint."""
    work_dir = str(tmp_path_factory.mktemp('mim_train'))
    path = os.pathsep.join(filter(None, [wheel_site, os.environ.get('PYTHONPATH')]))
    proc = run(['mim', 'train', 'cpn_mm', CONFIG_NAME, '--work-dir', work_dir, *TRAIN],
               env=dict(PYTHONPATH=path))
    tool = osp.join(wheel_site, 'cpn_mm', '.mim', 'tools', 'train.py')
    config = osp.realpath(osp.join(wheel_site, 'cpn_mm', '.mim', 'configs', CONFIG_NAME))
    assert f'Training command is {PY} {tool} {config}' in proc.stdout, proc.stdout
    return osp.join(work_dir, 'epoch_1.pth')


def mim_test(package: str, config: str, checkpoint: str, work_dir) -> str:
    """Run ``mim test``; returns its output after checking the metrics it wrote."""
    out = str(work_dir / 'metrics.json')
    proc = run(['mim', 'test', package, config, '-C', checkpoint, '--work-dir', str(work_dir),
                '--out', out, *TEST])
    assert 'coco/AP' in mmengine.load(out)
    return proc.stdout


def test_wheel_holds_cpn_mm_with_its_mim_files(wheel):
    with zipfile.ZipFile(wheel) as f:
        names = f.namelist()
    # cpn_mm alone (tests/ and benchmarks/ hold packages too)
    assert {n.split('/')[0] for n in names} == {'cpn_mm', osp.basename(wheel).replace(
        '-py3-none-any.whl', '.dist-info')}
    mim = {n[len('cpn_mm/.mim/'):] for n in names if n.startswith('cpn_mm/.mim/')}
    for folder in ('configs', 'tools', 'data'):
        for root, _, files in os.walk(osp.join(REPO, folder)):
            for file in files:
                if '__pycache__' not in root:
                    assert osp.relpath(osp.join(root, file), REPO) in mim
    assert 'model-index.yml' in mim


def test_mim_train_cpn_mm_from_its_wheel(mim_trained, wheel_site):
    ckpt = torch.load(mim_trained, map_location='cpu', weights_only=False)
    assert ckpt['meta']['dataset_meta']['dataset_name'] == 'coco'  # the runner saves it
    assert osp.isfile(osp.join(wheel_site, 'cpn_mm', '.mim', 'tools', 'test.py'))


def test_mim_test_cpn_mm_as_this_environment_installs_it(mim_trained, tmp_path):
    """``make`` (tools/setup_env.sh) installs cpn_mm where mim finds its configs and tools."""
    from mim.utils import get_installed_path
    root = get_installed_path('cpn_mm')
    assert osp.isfile(osp.join(root, '.mim', 'tools', 'test.py')), \
        f'mim looks for cpn_mm in {root}: not a setup.py develop install (README "mim")'
    stdout = mim_test('cpn_mm', CONFIG_NAME, mim_trained, tmp_path)
    assert f'{root}/.mim/tools/test.py' in stdout
    assert f'configs/{CONFIG_NAME}' in stdout


def test_mim_test_mmpose_with_a_cpn_mm_config(mim_trained, tmp_path):
    import mmpose
    stdout = mim_test('mmpose', osp.relpath(SAMPLE_CONFIG, REPO), mim_trained, tmp_path)
    assert osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', 'test.py') in stdout
