# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/slurm_train.sh and slurm_test.sh: the srun command line they build (a recording stand-in
``srun`` first on PATH starts the tasks on this machine), and ``--launcher slurm`` on the CPU
(gloo) taking rank and world size from Slurm's variables as ``--launcher pytorch`` does from
torchrun's."""
import json
import os
import os.path as osp

import mmengine
import pytest
import torch

from cpn_mm.utils.launch import first_slurm_host, slurm_to_torch_env
from ..helpers import FAST, PY, REPO, SAMPLE_CONFIG, TRAIN_FAST, run

FAKE_SLURM = osp.join(osp.dirname(osp.abspath(__file__)), 'fake_slurm')


def slurm_env(tmp_path, port):
    return dict(PATH=FAKE_SLURM + os.pathsep + os.environ['PATH'], PYTHON=PY, GPUS='2',
                GPUS_PER_NODE='2', CPUS_PER_TASK='1', SRUN_ARGS='--time=10 --mem=4G',
                MASTER_PORT=str(port), FAKE_SRUN_RECORD=str(tmp_path / 'srun.json'))


def recorded(tmp_path):
    with open(tmp_path / 'srun.json') as f:
        return json.load(f)


@pytest.mark.e2e
def test_slurm_train_two_tasks(tmp_path):
    work_dir = str(tmp_path / 'work')
    cfg_file = tmp_path / 'dist_config.py'
    cfg_file.write_text(
        f"_base_ = ['{SAMPLE_CONFIG}']\n"
        "custom_imports = dict(imports=['cpn_mm', 'tests.helpers.hooks'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='SyncBuffersHook'), dict(type='DumpRankParamsHook')]\n")
    extra = ['--no-validate', '--cfg-options', 'train_cfg.max_epochs=1',
             'train_dataloader.batch_size=6', 'default_hooks.checkpoint.interval=1',
             'default_hooks.checkpoint.save_best=None', *TRAIN_FAST]
    run(['bash', 'tools/slurm_train.sh', 'cpu-part', 'cpn-job', str(cfg_file), work_dir, *extra],
        env=slurm_env(tmp_path, 29621), timeout=300)
    rec = recorded(tmp_path)
    assert rec['argv'][:9] == [
        '-p', 'cpu-part', '--job-name=cpn-job', '--gres=gpu:2', '--ntasks=2',
        '--ntasks-per-node=2', '--cpus-per-task=1', '--kill-on-bad-exit=1', '--time=10']
    assert rec['command'][:2] == [PY, '-u']
    assert rec['command'][3:] == [str(cfg_file), f'--work-dir={work_dir}', *extra,
                                  '--launcher=slurm']
    assert osp.samefile(rec['command'][2], osp.join(REPO, 'tools', 'train.py'))
    assert osp.samefile(rec['env']['PYTHONPATH'].split(os.pathsep)[0], REPO)
    # both ranks trained one iteration of 2 x 6 persons with the same parameters
    saved = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu')
    assert saved['meta']['iter'] == 1
    r0 = torch.load(osp.join(work_dir, 'rank0_params.pth'))
    r1 = torch.load(osp.join(work_dir, 'rank1_params.pth'))
    for k, v in saved['state_dict'].items():
        if not k.endswith('num_batches_tracked'):
            torch.testing.assert_close(v, r0[k], msg=k)
            torch.testing.assert_close(v, r1[k], msg=k)


@pytest.mark.e2e
def test_slurm_test_equals_single_process(sample_checkpoint, reference, tmp_path):
    """tools/slurm_test.sh with 2 tasks: the metrics of the single-process evaluation (the
    session's float32 reference, detected boxes)."""
    config, ckpt = sample_checkpoint
    dist = str(tmp_path / 'slurm.json')
    run(['bash', 'tools/slurm_test.sh', 'cpu-part', 'cpn-test', config, ckpt, '--work-dir',
         str(tmp_path / 'd'), '--out', dist, '--cfg-options', *FAST],
        env=slurm_env(tmp_path, 29622), timeout=300)
    rec = recorded(tmp_path)
    assert rec['options']['ntasks'] == '2' and rec['options']['job-name'] == 'cpn-test'
    assert rec['command'][3:5] == [config, ckpt] and rec['command'][-1] == '--launcher=slurm'
    single = reference[False]['metrics']
    assert 'coco/AP' in single
    assert mmengine.load(dist) == pytest.approx(single, abs=1e-6)


def test_slurm_variables_map_to_torch_distributed():
    env = dict(SLURM_PROCID='3', SLURM_NTASKS='8', SLURM_LOCALID='1',
               SLURM_NODELIST='localhost')
    slurm_to_torch_env(env)
    assert (env['RANK'], env['WORLD_SIZE'], env['LOCAL_RANK']) == ('3', '8', '1')
    assert env['MASTER_ADDR'] == 'localhost' and env['MASTER_PORT'] == '29500'
    with pytest.raises(KeyError, match='SLURM_NTASKS.*srun'):
        slurm_to_torch_env(dict(SLURM_PROCID='0', SLURM_NODELIST='localhost'))


@pytest.mark.parametrize('node_list, host', [
    ('localhost', 'localhost'), ('node1,node2', 'node1'), ('gpu[07-09,12]', 'gpu07'),
    ('gpu[3,5],cpu1', 'gpu3'), ('a-b[001-004]', 'a-b001')])
def test_first_slurm_host(node_list, host):
    assert first_slurm_host(node_list) == host
