# Copyright (c) cpn_mm authors. All rights reserved.
"""Parameters and FLOPs of a CPN config's backbone, neck (GlobalNet) and head (RefineNet).

    .venv/bin/python tools/analysis/get_flops.py CONFIG [CONFIG ...] [--input-shape H W]
        [--cfg-options KEY=VALUE ...] [--markdown]

Command line as MMPose's ``tools/analysis_tools/get_flops.py`` (``--input-shape`` is [H, W] of
one crop; default: the codec's ``input_size``), several configs at once, and a per-component
breakdown from MMEngine's ``FlopAnalyzer`` / ``parameter_count`` (``mmengine.analysis``). FLOPs
follow MMEngine's (fvcore's) convention: one multiply-accumulate counts as one FLOP, batch 1, the
forward of each component on its real input (no flip test, no decoding; the neck includes the
GlobalNet's heatmap predictors, which eager inference runs). The model is built from the config without
``init_weights`` and with the backbone's ``init_cfg`` cleared, so nothing is downloaded.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

PARTS = ('backbone', 'neck', 'head')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='+', help='config file(s)')
    parser.add_argument('--input-shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help='crop size [H, W] (default: the codec\'s input_size)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in MMPose\'s tools')
    parser.add_argument('--markdown', action='store_true', help='print a Markdown table')
    return parser.parse_args(argv)


def complexity(config: str, input_shape: Optional[Sequence[int]] = None,
               cfg_options: Optional[dict] = None) -> Dict[str, object]:
    """Parameters and FLOPs per component of one config.

    Returns:
        dict: ``config``, ``input_shape`` [H, W], ``params`` and ``flops`` (dicts with
        ``backbone``, ``neck``, ``head``, ``total``; plain counts).
    """
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cpn_mm  # noqa: F401
    from mmpose.models import build_pose_estimator

    if not osp.isfile(config):
        raise SystemExit(f'error: config {config!r} does not exist')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    if 'init_cfg' in cfg.model.backbone:
        cfg.model.backbone.init_cfg = None  # never fetch pretrained weights
    model = build_pose_estimator(cfg.model).eval()
    if input_shape is None:
        codec = cfg.model.head.get('decoder') or cfg.get('codec')
        if codec is None:
            raise SystemExit(f'error: {config} has no codec input_size: pass --input-shape H W')
        input_shape = codec['input_size'][::-1]
    h, w = (int(v) for v in input_shape)
    # one analysis per component on its real input, so that nothing is pruned from the trace:
    # the neck's GlobalNet heatmaps are outputs here (eager inference computes them too,
    # although only the RefineNet heatmaps are decoded)
    x = torch.zeros(1, 3, h, w)
    with torch.no_grad():
        feats = model.backbone(x)
        neck_out = model.neck(feats)
    flops = {}
    for part, module, args in (('backbone', model.backbone, (x, )),
                               ('neck', model.neck, (feats, )),
                               ('head', model.head, (neck_out, ))):
        analyzer = FlopAnalyzer(module, args)
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        flops[part] = int(analyzer.total())
    params = parameter_count(model)
    out = dict(config=config, input_shape=[h, w], params={}, flops=flops)
    for part in PARTS:
        out['params'][part] = int(params.get(part, 0))
    out['params']['total'] = int(params[''])
    out['flops']['total'] = sum(flops[p] for p in PARTS)
    return out


def fmt(n: int, unit: float, digits: int = 2) -> str:
    return f'{n / unit:.{digits}f}'


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    args = parse_args(argv)
    results = [complexity(c, args.input_shape, args.cfg_options) for c in args.config]
    header = ['config', 'input [H, W]'] + [f'{p} params (M)' for p in PARTS + ('total', )] + \
        [f'{p} GFLOPs' for p in PARTS + ('total', )]
    rows = [[osp.basename(r['config']), 'x'.join(map(str, r['input_shape']))] +
            [fmt(r['params'][p], 1e6) for p in PARTS + ('total', )] +
            [fmt(r['flops'][p], 1e9) for p in PARTS + ('total', )] for r in results]
    if args.markdown:
        print('| ' + ' | '.join(header) + ' |')
        print('|' + '---|' * len(header))
        for row in rows:
            print('| ' + ' | '.join(row) + ' |')
    else:
        widths = [max(len(x) for x in col) for col in zip(header, *rows)]
        for row in [header] + rows:
            print('  '.join(x.ljust(n) for x, n in zip(row, widths)))
    print('FLOPs: multiply-accumulates (MMEngine/fvcore convention), batch 1, no flip test.')
    return results


if __name__ == '__main__':
    main()
