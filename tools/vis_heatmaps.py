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
256-colour PNG. The work is done by :mod:`cpn_mm.apis.visualization`.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

from cpn_mm.apis import init_model, prepare_crops
from cpn_mm.apis.inference import clip_boxes
from cpn_mm.apis.visualization import cascade, draw_cascade, keypoint_groups
from cpn_mm.utils import InputError, check_file

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import flags_of  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
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
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace) -> str:
    """Draw the picture; returns its path."""
    check_file(args.config, 'config')
    check_file(args.checkpoint, 'checkpoint')
    check_file(args.img, 'img')
    import mmcv
    try:
        img = mmcv.imread(args.img)
    except Exception as e:
        raise InputError(f'cannot read --img {args.img!r}: {e}') from e
    if img is None:
        raise InputError(f'cannot read --img {args.img!r}: not a decodable image')
    H, W = img.shape[:2]
    box = np.array([[0, 0, W, H]] if args.bbox is None else [args.bbox], dtype=np.float32)
    box, dropped = clip_boxes(box, W, H)
    if dropped:
        raise InputError(f'--bbox {args.bbox} has no area inside the {W}x{H} image '
                         '(expected X1 < X2, Y1 < Y2 in image pixels)')
    model = init_model(args.config, args.checkpoint, args.device)
    inputs, crops = prepare_crops(model, img, box)
    stages = cascade(model, inputs)
    codec = model.head.decoder
    L = stages['maps'].shape[0] - 1
    kernels = list(getattr(codec, 'kernel_sizes', [None] * L))
    names = [f'GlobalNet P{i + 2}' + (f' (k={k})' if k else '') for i, k in enumerate(kernels)]
    names.append('RefineNet')
    groups = keypoint_groups(model.dataset_meta['keypoint_id2name'].values()
                             if 'keypoint_id2name' in model.dataset_meta else
                             [str(i) for i in range(stages['maps'].shape[2])])
    title = (f'{osp.basename(args.img)}, box {[round(float(v)) for v in box[0]]}: GlobalNet '
             'levels then RefineNet (points: decoded from each map)')
    return draw_cascade(crops[0], stages, groups, args.out, names, title, args.panel_width,
                        args.dpi)


def main(argv: Optional[List[str]] = None) -> str:
    """The command line: errors in the arguments or inputs exit with status 2 and a message."""
    args = parse_args(argv)
    try:
        out = run(args)
    except InputError as e:  # the library names its parameters: show our options instead
        print(f'error: {e.for_command_line(flags_of(build_parser()))}', file=sys.stderr)
        raise SystemExit(2)
    print(f'heatmaps: {out}')
    return out


if __name__ == '__main__':
    main()
