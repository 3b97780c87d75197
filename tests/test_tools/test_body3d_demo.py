# Copyright (c) cpn_mm authors. All rights reserved.
"""MMPose's own ``demo/body3d_pose_lifter_demo.py`` with a cpn_mm 2D config and checkpoint (its
``pose_estimator_config``) and one of MMPose's lifter configs drawn by ``Pose3dAggVisualizer``
(docs/lifting.md): one command-line run, as a user runs it."""
import json
import os.path as osp
import subprocess
import sys

import mmpose
import pytest

from ..helpers import REPO, SAMPLE, SAMPLE_IMAGES, person_rtmdet_checkpoint, rtmdet_tiny_config

MMPOSE = osp.join(osp.dirname(mmpose.__file__), '.mim')
LIFTER = osp.join(MMPOSE, 'configs', 'body_3d_keypoint', 'video_pose_lift', 'h36m',
                  'video-pose-lift_tcn-1frm-supv-cpn-ft_8xb128-160e_h36m.py')


@pytest.mark.e2e
def test_mmpose_body3d_demo_with_a_cpn_mm_config(sample_checkpoint, tmp_path):
    import torch
    from mmengine.config import Config
    from mmpose.apis import init_model as init_mmpose_model
    config, ckpt = sample_checkpoint
    det_cfg = rtmdet_tiny_config(str(tmp_path))
    det_ckpt = person_rtmdet_checkpoint(det_cfg, str(tmp_path / 'rtmdet_person.pth'))
    # the lifter as docs/lifting.md writes it: MMPose's config, cpn_mm's 3D visualizer
    lifter_cfg = tmp_path / 'lifter.py'
    lifter_cfg.write_text(f"_base_ = [{LIFTER!r}]\n"
                          "custom_imports = dict(imports=['cpn_mm'], allow_failed_imports=False)\n"
                          "visualizer = dict(type='Pose3dAggVisualizer')\n")
    lifter = init_mmpose_model(Config.fromfile(str(lifter_cfg)), device='cpu')  # random weights
    lifter_ckpt = str(tmp_path / 'lifter.pth')
    torch.save({'state_dict': lifter.state_dict()}, lifter_ckpt)
    out = tmp_path / 'out'
    img = osp.join(SAMPLE, SAMPLE_IMAGES[0])
    proc = subprocess.run(
        [sys.executable, osp.join(MMPOSE, 'demo', 'body3d_pose_lifter_demo.py'), det_cfg,
         det_ckpt, config, ckpt, str(lifter_cfg), lifter_ckpt, '--input', img,
         '--output-root', str(out), '--save-predictions', '--device', 'cpu',
         '--num-instances', '1'],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert (out / osp.basename(img)).is_file()  # the drawn frame: 2D panel and 3D poses
    name = osp.splitext(osp.basename(img))[0]
    with open(out / f'results_{name}.json') as f:
        results = json.load(f)
    assert results['meta_info']['num_keypoints'] == 17
    persons = results['instance_info']  # one image: its persons
    assert persons and all(len(p['keypoints']) == 17 and len(p['keypoints'][0]) == 3
                           for p in persons)
