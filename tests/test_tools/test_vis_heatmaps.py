# Copyright (c) cpn_mm authors. All rights reserved.
"""tools/vis_heatmaps.py: the cascade picture of one sample person."""
import os.path as osp

import numpy as np
from PIL import Image

from cpn_mm.apis.visualization import keypoint_groups
from ..helpers import SAMPLE, SAMPLE_IMAGES, tool_main


def test_vis_heatmaps_picture(sample_checkpoint, tmp_path):
    config, ckpt = sample_checkpoint
    out = str(tmp_path / 'cascade.png')
    proc = tool_main('vis_heatmaps.py', config, ckpt, '--img',
                    osp.join(SAMPLE, SAMPLE_IMAGES[0]), '--bbox', '277', '45', '502', '379',
                    '--out', out, '--dpi', '80')
    assert f'heatmaps: {out}' in proc.stdout
    img = np.asarray(Image.open(out).convert('RGB'))
    # 3 groups (head, arms, legs) x (crop + 4 GlobalNet levels + RefineNet) panels of 1.6 in,
    # crop 192 x 144 (h x w): 0.3 in title per row, 0.4 in figure title
    w_in, h_in = 6 * 1.6, 3 * (1.6 * 192 / 144 + 0.3) + 0.4
    assert abs(img.shape[1] - w_in * 80) <= 1 and abs(img.shape[0] - h_in * 80) <= 1
    # not blank: every panel has structure and the heatmap panels are coloured
    rows, cols = 3, 6
    ph, pw = (img.shape[0] - 0.4 * 80) / rows, img.shape[1] / cols
    for r in range(rows):
        for c in range(cols):
            panel = img[int(32 + r * ph + 0.3 * 80):int(32 + (r + 1) * ph),
                        int(c * pw):int((c + 1) * pw)].astype(float)
            assert panel.std() > 10, (r, c)
            if c > 0:  # jet overlay: strongly coloured pixels
                assert (panel.max(-1) - panel.min(-1) > 80).mean() > 0.2, (r, c)


def test_vis_heatmaps_box_outside_image(sample_checkpoint, tmp_path):
    config, ckpt = sample_checkpoint
    proc = tool_main('vis_heatmaps.py', config, ckpt, '--img',
                    osp.join(SAMPLE, SAMPLE_IMAGES[0]), '--bbox', '5000', '0', '6000', '10',
                    '--out', str(tmp_path / 'x.png'), check=False)
    assert proc.returncode == 2 and proc.stderr.startswith('error: --bbox')


def test_keypoint_groups():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
    groups = keypoint_groups(list(meta['keypoint_id2name'].values()))
    assert groups == [('head', [0, 1, 2, 3, 4]), ('arms', [5, 6, 7, 8, 9, 10]),
                      ('legs', [11, 12, 13, 14, 15, 16])]
    assert keypoint_groups(['a', 'b']) == [('all', [0, 1])]
