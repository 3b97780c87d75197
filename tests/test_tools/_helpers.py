# Copyright (c) cpn_mm authors. All rights reserved.
"""Shared pieces of the tool tests: paths, running a tool's command line, a detector."""
import os
import os.path as osp
import socket
import subprocess
import sys

from ..conftest import REPO, SAMPLE

SAMPLE_IMAGES = ('000000000785.jpg', '000000040083.jpg', '000000196141.jpg', '000000197388.jpg')
SAMPLE_IDS = (785, 40083, 196141, 197388)
DET_JSON = osp.join(SAMPLE, 'test_coco_det_AP_H_56.json')


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
