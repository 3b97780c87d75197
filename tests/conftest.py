# Copyright (c) cpn_mm authors. All rights reserved.
"""Session fixtures: the expensive work, done once per test run and shared. What the tests share
otherwise is in ``tests/helpers``.

- ``main_job``: the README's main job (``tools/run_sample.py``, its one command-line run,
  started in the background as soon as the tests are collected): the one trained sample
  checkpoint every test of a trained model uses (``sample_checkpoint``);
- ``onnx_files``: one float32 ONNX export of it and one int8 file calibrated on the sample;
- ``reference``: one PyTorch float32 COCO evaluation of it, with ground-truth and with
  detected boxes.

Tests that use them, or train, evaluate, export, compile or start a command line, carry the
``e2e`` marker; ``-m "not e2e"`` runs the rest (the quick loop, README "Tests and style").
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import tempfile

import pytest

from .helpers import ANN, PY, REPO, SAMPLE_CONFIG

MAIN_JOB = pytest.StashKey()
EXIT_STATUS = pytest.StashKey()

E2E_FIXTURES = {'main_job', 'sample_checkpoint', 'onnx_files', 'reference', 'tf_cpn_checkpoint',
                'tf_cpn_converted', 'pytorch_cpn_checkpoint', 'pytorch_cpn_converted'}
# what needs the main job's trained checkpoint
TRAINED = {'main_job', 'sample_checkpoint', 'onnx_files', 'reference'}


def _needs(item, names) -> bool:
    return bool(names & set(getattr(item, 'fixturenames', ())))


def pytest_collection_modifyitems(items):
    """A test that uses a session fixture of trained, converted or exported models is an
    end-to-end test, whatever its module says. The modules with tests of the trained model run
    last, so that the main job (started in the background when the collection is done)
    trains while the others run."""
    for item in items:
        if _needs(item, E2E_FIXTURES):
            item.add_marker(pytest.mark.e2e)
    late = {item.module.__name__ for item in items if _needs(item, TRAINED)}
    items.sort(key=lambda item: item.module.__name__ in late)  # stable: module order kept


def pytest_collection_finish(session):
    """Start the main job's command line in the background if a selected test needs it."""
    if any(_needs(item, TRAINED) for item in session.items) and \
            not session.config.option.collectonly:
        work_dir = tempfile.mkdtemp(prefix='cpn_mm_main_job_')
        log = open(osp.join(work_dir, 'stdout.txt'), 'w+')
        # the job keeps its threads (its numbers are the README's); while it runs the tests
        # take one thread and its OpenMP threads sleep instead of spinning when they wait
        # (the tests get their threads back when the job is done)
        proc = subprocess.Popen([PY, 'tools/run_sample.py', '--work-dir', work_dir], cwd=REPO,
                                stdout=log, stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ, PYTHONWARNINGS='ignore',
                                         OMP_WAIT_POLICY='PASSIVE'))
        import torch
        session.config.stash[MAIN_JOB] = (proc, work_dir, log, torch.get_num_threads())
        torch.set_num_threads(1)


def pytest_sessionfinish(session, exitstatus):
    session.config.stash[EXIT_STATUS] = int(exitstatus)
    started = session.config.stash.get(MAIN_JOB, None)
    if started is not None:
        proc, work_dir, log, _ = started
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the process with the session's exit status once pytest is done (results, summary and
    reports are written by then), without the interpreter's own shutdown. On the torch 2.1
    stack that shutdown, after the whole suite ran in one process (TensorFlow, OpenVINO, ONNX
    Runtime and an Inductor compilation loaded), is killed by SIGSEGV while
    ``concurrent.futures`` joins its worker threads (gdb: main thread in
    ``threading._shutdown``), which turned a passing run into a failed ``make test``; no test
    or tool process of cpn_mm exits that way, and the suite's exit status must be pytest's."""
    import sys
    status = config.stash.get(EXIT_STATUS, None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmpose.utils import register_all_modules

    import cpn_mm  # noqa: F401  (registers the modules)
    register_all_modules()


@pytest.fixture(scope='session')
def main_job(request):
    """(work_dir, stdout) of the README's main job, run as its command line
    (``tools/run_sample.py``: train the sample config for 15 epochs, evaluate, draw; about 2
    minutes on 2 cores), started in the background when the collection finished."""
    import torch
    proc, work_dir, log, threads = request.config.stash[MAIN_JOB]
    proc.wait(timeout=900)
    torch.set_num_threads(threads)
    log.seek(0)
    stdout = log.read()
    assert proc.returncode == 0, f'tools/run_sample.py failed ({proc.returncode}):\n' \
        f'{stdout[-6000:]}'
    return work_dir, stdout


@pytest.fixture(scope='session')
def sample_checkpoint(main_job):
    """(config path, checkpoint path) of the main job's model: the sample learnt (AP about
    0.98 with ground-truth boxes)."""
    ckpt = re.search(r'checkpoint: (\S+)', main_job[1]).group(1)
    assert osp.isfile(ckpt), main_job[1][-2000:]
    return SAMPLE_CONFIG, ckpt


@pytest.fixture(scope='session')
def onnx_files(sample_checkpoint, tmp_path_factory):
    """(float32 export, int8 file calibrated on the sample's 14 annotated person crops) of the
    main job's model."""
    from cpn_mm.apis import calibration_crops, export_onnx, init_model, quantize_onnx
    config, ckpt = sample_checkpoint
    model = init_model(config, ckpt)
    folder = tmp_path_factory.mktemp('onnx')
    fp32 = export_onnx(model, str(folder / 'fp32.onnx'))
    report = quantize_onnx(fp32, str(folder / 'int8.onnx'), calibration_crops(model, ANN))
    return fp32, report['out']


@pytest.fixture(scope='session')
def reference(sample_checkpoint, tmp_path_factory):
    """PyTorch float32 on the sample, through the runner and CocoMetric:
    ``{gt_boxes: cpn_mm.apis.evaluation.evaluate(...)}``."""
    from cpn_mm.apis.evaluation import evaluate
    config, ckpt = sample_checkpoint
    ref = {gt: evaluate(config, ckpt, str(tmp_path_factory.mktemp('reference')), gt)
           for gt in (True, False)}
    assert ref[True]['AP'] > 0.9 and ref[False]['AP'] > 0.5, (ref[True]['AP'], ref[False]['AP'])
    return ref
