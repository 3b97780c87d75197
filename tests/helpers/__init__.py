# Copyright (c) cpn_mm authors. All rights reserved.
"""What the tests share: paths, configs, running a tool's command line as a user does, test
detectors. Fixtures live in ``conftest.py``; the golden converter fixtures in ``golden.py``."""
import contextlib
import glob
import io
import json
import os
import os.path as osp
import runpy
import socket
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'data', 'coco_sample')
SAMPLE_CONFIG = osp.join(REPO, 'configs', 'cpn_r18_coco-sample_192x144.py')
SAMPLE_IMAGES = ('000000000785.jpg', '000000040083.jpg', '000000196141.jpg', '000000197388.jpg')
SAMPLE_IDS = (785, 40083, 196141, 197388)
DET_JSON = osp.join(SAMPLE, 'test_coco_det_AP_H_56.json')
ANN = osp.join(SAMPLE, 'test_coco.json')
PY = sys.executable
BIN = osp.dirname(PY)

# one iteration per epoch, no worker processes
TRAIN_FAST = ['train_dataloader.dataset.datasets.0.times=1', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False']
EVAL_FAST = ['val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
             'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
FAST = TRAIN_FAST + EVAL_FAST


def sample_cfg(work_dir: str, epochs: int, **overrides):
    """The embedded-sample config, without worker processes, for in-process runs."""
    from mmengine.config import Config
    cfg = Config.fromfile(SAMPLE_CONFIG)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = max(epochs, 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.train_dataloader.dataset.datasets[0].times = 1  # one iteration per epoch
    cfg.merge_from_dict(overrides)
    return cfg


def cpn_cfg(depth=50, K=17, input_size=(192, 256)):
    hm = (input_size[0] // 4, input_size[1] // 4)
    codec = dict(type='MultiSigmaHeatmap', input_size=input_size, heatmap_size=hm)
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=dict(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3)),
        neck=dict(
            type='CPNGlobalNet',
            in_channels=(64, 128, 256, 512) if depth < 50 else (256, 512, 1024, 2048),
            num_keypoints=K,
            heatmap_size=hm),
        head=dict(type='CPNRefineHead', num_keypoints=K, decoder=codec),
        test_cfg=dict(flip_test=True))


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def forward_backward(neck, head, inputs, fn_neck, fn_head):
    """Outputs (pyramid, GlobalNet heatmaps, refined) and gradients (parameters, inputs) of
    ``fn_head(head, fn_neck(neck, inputs))`` under a fixed random loss that reaches all of them."""
    for m in (neck, head):
        m.zero_grad(set_to_none=True)
    for x in inputs:
        x.grad = None
    feats, hms = fn_neck(neck, inputs)
    out = fn_head(head, (feats, hms))
    import torch
    g = torch.Generator().manual_seed(1)
    # a loss that reaches every output and every parameter; its weights are drawn in float32
    # whatever the dtype, so float32 and float64 runs compute the same function
    loss = (out * torch.randn(out.shape, generator=g).to(out.dtype)).sum() + sum(
        (h * torch.randn(h.shape, generator=g).to(h.dtype)).sum() for h in hms)
    loss.backward()
    grads = [p.grad.clone() for m in (neck, head) for p in m.parameters()]
    return [*feats, *hms, out], grads + [x.grad.clone() for x in inputs]


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


def run_tool(relpath: str, *args: str, timeout: int = 300, check: bool = True,
             env: dict = None) -> subprocess.CompletedProcess:
    """Run ``tools/<relpath>`` with this Python from the repository root (its command line, as
    a user does); fails with the tool's output unless it exits with 0 (``check``)."""
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([sys.executable, osp.join('tools', relpath), *args], cwd=REPO,
                          env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{relpath} {args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


def forget_visualizers() -> None:
    """Drop MMEngine's global visualizer instances: a runner builds its visualizer by name
    (``visualizer.name`` in MMPose's configs), so a later runner in this process would
    otherwise reuse the first one and write its ``vis_data`` into the first run's folder."""
    from mmengine.visualization import Visualizer
    classes = [Visualizer]
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes.extend(cls.__subclasses__())


def script_main(path: str, *args: str, check: bool = True,
                cwd: str = None) -> subprocess.CompletedProcess:
    """``python <path> <args>`` in this process: the script runs as ``__main__`` (``runpy``)
    with that ``sys.argv`` (from ``cwd``, default the repository root), stdout/stderr captured
    and ``SystemExit`` turned into the exit status. No interpreter start and no imports: for
    the tests of a tool other than its one command-line run (``run_tool``, ``main_job``, the
    docs tests)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    forget_visualizers()
    sys.argv = [path, *args]
    os.chdir(cwd or REPO)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(osp.join(REPO, path) if not osp.isabs(path) else path,
                               run_name='__main__')
            except SystemExit as e:
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
                    code = 1
                else:
                    code = e.code or 0
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    proc = subprocess.CompletedProcess([path, *args], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f'{path} {args} failed ({code}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc


def tool_main(relpath: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``tools/<relpath> <args>`` in this process (:func:`script_main`)."""
    return script_main(osp.join('tools', relpath), *args, check=check)


def rtmdet_tiny_config(tmp_dir: str) -> str:
    """A config inheriting mmdet's installed RTMDet-tiny with the backbone's pretrained
    ``init_cfg`` cleared: built with random weights, nothing to download."""
    import mmdet
    base = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'rtmdet',
                    'rtmdet_tiny_8xb32-300e_coco.py')
    assert osp.isfile(base), base
    path = osp.join(tmp_dir, 'rtmdet_tiny_random.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\nmodel = dict(backbone=dict(init_cfg=None))\n')
    return path


def forbid_network(monkeypatch) -> None:
    """Make any socket connection fail loudly: the tools must never download."""

    def refuse(self, address, *args, **kwargs):
        raise AssertionError(f'network access attempted: {address!r}')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket.socket, 'connect_ex', refuse)


def person_rtmdet_checkpoint(det_cfg: str, path: str) -> str:
    """A checkpoint for :func:`rtmdet_tiny_config` whose head is set by hand to a known
    detector: on the coarsest level (stride 32) every location says "person" (class 0, score
    sigmoid(5)) with a box 4 strides to each side (256 x 256 network-input pixels); the other
    classes and levels score sigmoid(-10). Random weights would call almost nothing a person
    and predict sub-pixel boxes; this one gives a deterministic set of boxes after NMS."""
    import torch
    from mmdet.apis import init_detector
    torch.manual_seed(0)
    det = init_detector(det_cfg, None, device='cpu')
    head = det.bbox_head
    with torch.no_grad():
        for level, (cls, reg) in enumerate(zip(head.rtm_cls, head.rtm_reg)):
            cls.weight.zero_()
            reg.weight.zero_()
            cls.bias.fill_(-10.)
            reg.bias.fill_(4.)
            if level == len(head.rtm_cls) - 1:
                cls.bias[0] = 5.
    torch.save(dict(state_dict=det.state_dict(), meta=dict()), path)
    return path
