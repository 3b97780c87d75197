# Copyright (c) cpn_mm authors. All rights reserved.
"""Every command of docs/lifting.md, run as written from the repository root, the way
tests/test_tools/test_inference_doc.py runs docs/inference.md (its helpers): the first command
of each tool as its command line (the tool's one command-line run in the suite), later ones in
this process; the Python block executed here. Substitutions: this Python, the session's sample
checkpoint, a temporary folder for ``work_dirs/``, and a 5-frame video (frame 2 black) for
``my_video.mp4``."""
import contextlib
import io
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from ..helpers import REPO, SAMPLE, SAMPLE_IMAGES
from .test_inference_doc import commands, run_command, substitute

DOC = osp.join(REPO, 'docs', 'lifting.md')


def blocks(language):
    with open(DOC) as f:
        return re.findall(rf'```{language}\n(.*?)```', f.read(), flags=re.S)


def write_video(path: str) -> None:
    img = cv2.resize(cv2.imread(osp.join(SAMPLE, SAMPLE_IMAGES[1])), (160, 112))
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 5, (160, 112))
    assert writer.isOpened()
    for i in range(5):
        writer.write(np.zeros_like(img) if i == 2 else np.roll(img, 2 * i, axis=1))
    writer.release()


def test_doc_has_the_commands():
    bash = '\n'.join(blocks('bash'))
    for command in ('tools/demo_3d.py', 'tools/export_2d_for_lifting.py', '--formats mmpose '
                    'videopose3d', '243frm-supv-cpn-ft', '1frm-supv-cpn-ft', '--no-draw'):
        assert command in bash, command
    assert 'MMPoseInferencer' in '\n'.join(blocks('python'))


@pytest.mark.parametrize('index', range(len(blocks('bash'))))
def test_lifting_doc_bash_block(sample_checkpoint, tmp_path, index):
    _, ckpt = sample_checkpoint
    video = str(tmp_path / 'my_video.mp4')
    write_video(video)
    env = dict(os.environ)
    block = substitute(blocks('bash')[index], ckpt, tmp_path).replace('my_video.mp4', video)
    for line in commands(block):
        line = re.sub(r'"\$(\w+)"', lambda m: env[m.group(1)], line)
        run_command(line, env)
    if 'demo_3d.py' in block and '--no-draw' not in block:
        assert osp.isfile(tmp_path / 'demo_3d' / 'my_video.mp4')
        pred = np.load(tmp_path / 'demo_3d' / 'predictions_3d.npz')
        assert list(pred['frames_without_person']) == []  # whole-frame boxes: a person always
        assert pred['keypoints_3d'].shape == (5, 17, 3)
    if 'export_2d_for_lifting.py' in block:
        assert np.load(tmp_path / 'export_2d' / 'joint_2d_det_files' /
                       'my_video_track0.npy').shape == (5, 17, 3)
        assert osp.isfile(tmp_path / 'export_2d' / 'videopose3d' / 'my_video.mp4.npz')


def test_lifting_doc_python_block(sample_checkpoint):
    """The Python block (``MMPoseInferencer(pose2d=<cpn_mm config>, pose2d_weights,
    pose3d=<MMPose lifter>)``), executed in this process from the repository root: 17 3D
    keypoints, and cpn_mm's lifting of the same CPN and the inferencer's lifter gives them too
    (in the inferencer's drawing space)."""
    import torch

    from cpn_mm.apis.demo import read_image
    from cpn_mm.apis.lifting import Pose2DStage, lift, to_drawing_space
    config, ckpt = sample_checkpoint
    script = blocks('python')[0].replace('work_dirs/coco_sample/epoch_15.pth', ckpt)
    out, namespace = io.StringIO(), {}
    saved = os.getcwd()
    os.chdir(REPO)
    torch.manual_seed(0)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(script, 'docs/lifting.md python block', 'exec'), namespace)
    finally:
        os.chdir(saved)
    assert out.getvalue().strip().endswith('17 joints in 3D'), out.getvalue()
    predictions = namespace['result']['predictions'][0]
    assert len(predictions) == 1
    keypoints = np.array(predictions[0]['keypoints'])
    assert keypoints.shape == (17, 3) and np.isfinite(keypoints).all()

    img = osp.join(SAMPLE, SAMPLE_IMAGES[0])
    assert namespace['inferencer'].inferencer.model.cfg.model.type == 'PoseLifter'
    frame = Pose2DStage(config, ckpt, backend='pytorch')(read_image(img), img, 0, 0)
    ours = lift(namespace['inferencer'].inferencer.model, [frame], 'coco')[0][0]
    np.testing.assert_allclose(to_drawing_space(ours['keypoints_3d']), keypoints, atol=1e-4)
