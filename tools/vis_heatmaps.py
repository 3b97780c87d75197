# Copyright (c) cpn_mm authors. All rights reserved.
"""Draw CPN's cascade for one person: GlobalNet heatmaps of every pyramid level, then RefineNet.

    .venv/bin/python tools/vis_heatmaps.py CONFIG CHECKPOINT --img IMAGE
        [--bbox X1 Y1 X2 Y2] [--out heatmaps.png] [--device cpu]

The box (input-image pixels, [x1, y1, x2, y2]; the whole image if omitted) is cropped by the
model's test pipeline (``GetBBoxCenterScale`` + ``TopdownAffine``, as at test time). One PNG:
one row per keypoint group (COCO: head, arms, legs; other datasets: all keypoints), columns

    crop | GlobalNet P2 | P3 | ... | Pn | RefineNet

Each heatmap panel overlays, on the crop, the maximum over the group's keypoints of the maps
normalised per keypoint to [0, 1] (negative values clipped), and marks the keypoints decoded from
that very map with the codec's ``batch_decode`` (crop coordinates). The crop column shows the
RefineNet's decoded keypoints of the group. Layout: every panel is ``--panel-width`` inches wide
(height by the crop's aspect ratio, plus a title line), at ``--dpi`` dots per inch, saved as a
256-colour PNG.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# COCO keypoint groups by name (substring match on the dataset's keypoint names)
GROUPS = (('head', ('nose', 'eye', 'ear')), ('arms', ('shoulder', 'elbow', 'wrist')),
          ('legs', ('hip', 'knee', 'ankle')))
TITLE_IN = 0.3  # inches of title line per panel row
HEADER_IN = 0.4  # inches of the figure's title


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument('--img', required=True, help='input image')
    parser.add_argument(
        '--bbox', type=float, nargs=4, default=None, metavar=('X1', 'Y1', 'X2', 'Y2'),
        help='person box in image pixels (default: the whole image)')
    parser.add_argument('--out', default='heatmaps.png', help='output PNG')
    parser.add_argument('--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument('--panel-width', type=float, default=1.6, help='inches per panel')
    parser.add_argument('--dpi', type=int, default=100, help='dots per inch of the PNG')
    return parser.parse_args(argv)


def check_file(name: str, path: str) -> None:
    if not osp.isfile(path):
        raise SystemExit(f'error: {name} {path!r} does not exist or is not a file')


def load_model(config: str, checkpoint: Optional[str], device: str = 'cpu'):
    """``mmpose.apis.init_model`` after registering cpn_mm (no pretrained download)."""
    import cpn_mm  # noqa: F401
    from mmpose.apis import init_model
    return init_model(config, checkpoint, device=device)


def prepare_crops(model, img, bboxes: np.ndarray) -> Tuple['torch.Tensor', np.ndarray]:
    """Crops of ``bboxes`` through the model's test pipeline and data preprocessor.

    Args:
        model: A top-down pose estimator from :func:`load_model`
        img (str | np.ndarray): Image path or BGR image
        bboxes (np.ndarray): Boxes (N, 4) [x1, y1, x2, y2] in image pixels

    Returns:
        tuple: ``inputs`` (N, 3, h, w) float32, normalised RGB as the backbone sees them, and
        ``crops`` (N, h, w, 3) uint8 RGB, the same crops before normalisation.
    """
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    init_default_scope(model.cfg.get('default_scope', 'mmpose'))
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = []
    for box in np.asarray(bboxes, dtype=np.float32).reshape(-1, 4):
        info = dict(img_path=img) if isinstance(img, str) else dict(img=img)
        info.update(bbox=box[None], bbox_score=np.ones(1, dtype=np.float32))
        info.update(model.dataset_meta)
        data.append(pipeline(info))
    batch = pseudo_collate(data)
    crops = np.stack([x.numpy().transpose(1, 2, 0)[..., ::-1] for x in batch['inputs']])
    inputs = model.data_preprocessor(batch, False)['inputs']
    return inputs, np.ascontiguousarray(crops)


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
        feats = model.extract_feat(inputs)  # backbone + neck: (pyramid, global heatmaps)
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


def draw(crop: np.ndarray, stages: Dict[str, np.ndarray], groups, out: str,
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


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    check_file('config', args.config)
    check_file('checkpoint', args.checkpoint)
    check_file('--img', args.img)
    import mmcv
    try:
        img = mmcv.imread(args.img)
    except Exception as e:
        raise SystemExit(f'error: cannot read --img {args.img!r}: {e}') from e
    if img is None:
        raise SystemExit(f'error: cannot read --img {args.img!r}: not a decodable image')
    H, W = img.shape[:2]
    if args.bbox is None:
        box = np.array([0, 0, W, H], dtype=np.float32)
    else:
        box = np.array(args.bbox, dtype=np.float32)
        box[[0, 2]] = box[[0, 2]].clip(0, W)
        box[[1, 3]] = box[[1, 3]].clip(0, H)
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            raise SystemExit(f'error: --bbox {args.bbox} has no area inside the {W}x{H} image '
                             '(expected X1 < X2, Y1 < Y2 in image pixels)')
    model = load_model(args.config, args.checkpoint, args.device)
    inputs, crops = prepare_crops(model, img, box[None])
    stages = cascade(model, inputs)
    codec = model.head.decoder
    L = stages['maps'].shape[0] - 1
    kernels = list(getattr(codec, 'kernel_sizes', [None] * L))
    names = [f'GlobalNet P{i + 2}' + (f' (k={k})' if k else '') for i, k in enumerate(kernels)]
    names.append('RefineNet')
    groups = keypoint_groups(model.dataset_meta['keypoint_id2name'].values()
                             if 'keypoint_id2name' in model.dataset_meta else
                             [str(i) for i in range(stages['maps'].shape[2])])
    title = (f'{osp.basename(args.img)}, box {[round(float(v)) for v in box]}: GlobalNet levels '
             'then RefineNet (points: decoded from each map)')
    out = draw(crops[0], stages, groups, args.out, names, title, args.panel_width, args.dpi)
    print(f'heatmaps: {out}')
    return out


if __name__ == '__main__':
    main()
