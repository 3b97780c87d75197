# Copyright (c) cpn_mm authors. All rights reserved.
"""CPN's cascade for a batch of crops: the heatmaps of every GlobalNet level and of the
RefineNet, the keypoints decoded from each, and a picture (``tools/vis_heatmaps.py``)."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

# COCO keypoint groups by name (substring match on the dataset's keypoint names)
GROUPS = (('head', ('nose', 'eye', 'ear')), ('arms', ('shoulder', 'elbow', 'wrist')),
          ('legs', ('hip', 'knee', 'ankle')))
TITLE_IN = 0.3  # inches of title line per panel row
HEADER_IN = 0.4  # inches of the figure's title



def keypoint_groups(keypoint_names: Sequence[str]) -> List[Tuple[str, List[int]]]:
    """Groups (name, keypoint indices) by COCO part names; one group 'all' otherwise."""
    groups = []
    for name, parts in GROUPS:
        ids = [i for i, k in enumerate(keypoint_names) if any(p in k for p in parts)]
        if ids:
            groups.append((name, ids))
    covered = sorted(i for _, ids in groups for i in ids)
    if covered != list(range(len(keypoint_names))):
        return [('all', list(range(len(keypoint_names))))]
    return groups


def cascade(model, inputs) -> Dict[str, np.ndarray]:
    """Heatmaps and decoded keypoints of every stage for a batch of crops.

    Returns:
        dict: ``maps`` (S, B, K, H, W) with S = L GlobalNet levels (finest first) + RefineNet,
        ``keypoints`` (S, B, K, 2) in crop pixels and ``scores`` (S, B, K).
    """
    import torch
    with torch.no_grad():
        # the GlobalNet heatmaps are asked for: inference alone skips them
        feats = model.neck(model.backbone(inputs), with_heatmaps=True)
        refined = model.head.forward(feats)
    maps = [h.cpu().numpy() for h in feats[1]] + [refined.cpu().numpy()]
    kpts, scores = zip(*(model.head.decoder.batch_decode(m) for m in maps))
    return dict(maps=np.stack(maps), keypoints=np.stack(kpts)[:, :, 0],
                scores=np.stack(scores)[:, :, 0])


def figure_size(num_levels: int, num_groups: int, crop_hw: Tuple[int, int],
                panel_width: float = 1.6) -> Tuple[float, float]:
    """(width, height) in inches: (L + 2) panels per row, one row per group."""
    h, w = crop_hw
    return ((num_levels + 2) * panel_width,
            num_groups * (panel_width * h / w + TITLE_IN) + HEADER_IN)


def draw_cascade(crop: np.ndarray, stages: Dict[str, np.ndarray], groups, out: str,
                 level_names: Sequence[str], title: str = '', panel_width: float = 1.6,
                 dpi: int = 100) -> str:
    """Write the PNG for one crop (``stages`` of batch size 1); returns ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    h, w = crop.shape[:2]
    maps = np.clip(stages['maps'][:, 0], 0, None)  # (S, K, H, W)
    peak = maps.reshape(*maps.shape[:2], -1).max(-1)
    maps = maps / np.where(peak > 0, peak, 1)[..., None, None]
    kpts = stages['keypoints'][:, 0]
    S = maps.shape[0]
    fig_w, fig_h = figure_size(S - 1, len(groups), (h, w), panel_width)
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=dpi)
    row_h = (fig_h - HEADER_IN) / len(groups)
    colors = plt.get_cmap('tab20')
    for r, (gname, ids) in enumerate(groups):
        for c in range(S + 1):
            left = c * panel_width / fig_w
            bottom = (fig_h - HEADER_IN - (r + 1) * row_h) / fig_h
            ax = fig.add_axes((left, bottom, panel_width / fig_w,
                               (row_h - TITLE_IN) / fig_h))
            ax.imshow(crop, extent=(0, w, h, 0))
            stage = S - 1 if c == 0 else c - 1
            if c == 0:
                ax.set_title(f'{gname}: crop', fontsize=8)
            else:
                ax.imshow(maps[stage, ids].max(0), extent=(0, w, h, 0), cmap='jet',
                          alpha=0.55, vmin=0, vmax=1, interpolation='bilinear')
                ax.set_title(f'{gname}: {level_names[stage]}', fontsize=8)
            for i in ids:
                ax.plot(*kpts[stage, i], 'o', ms=3.5, mec='white', mew=0.6,
                        color=colors(i % 20))
            ax.set_xlim(0, w)
            ax.set_ylim(h, 0)
            ax.axis('off')
    fig.suptitle(title, fontsize=9, y=1 - 0.1 * HEADER_IN / fig_h)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    # a 256-colour PNG: a few hundred kB instead of a megabyte, no visible loss for heatmaps
    from PIL import Image
    Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out
