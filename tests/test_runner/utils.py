# Copyright (c) cpn_mm authors. All rights reserved.
import glob
import json
import os
import os.path as osp
import subprocess
import sys

from ..conftest import REPO

PY = sys.executable
BIN = osp.dirname(PY)


def run(cmd, timeout=300, env=None, check=True):
    """Run a command from the repository root; returns its CompletedProcess (text)."""
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    full_env['PATH'] = BIN + os.pathsep + full_env.get('PATH', '')
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n'
                             f'{proc.stderr[-6000:]}')
    return proc


def last_metrics(work_dir: str, key: str = 'coco/AP') -> dict:
    """The last metrics line containing ``key`` in the run's ``vis_data/scalars.json``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    assert files, f'no scalars.json under {work_dir}'
    found = None
    for file in files:
        with open(file) as f:
            for line in f:
                rec = json.loads(line)
                if key in rec:
                    found = rec
    assert found is not None, f'no {key} in {files}'
    return found
