# Copyright (c) cpn_mm authors. All rights reserved.
"""Parameters and FLOPs of a CPN config's backbone, neck (GlobalNet) and head (RefineNet).

    .venv/bin/python tools/analysis/get_flops.py CONFIG [CONFIG ...] [--input-shape H W]
        [--cfg-options KEY=VALUE ...] [--markdown]

Command line as MMPose's ``tools/analysis_tools/get_flops.py`` (``--input-shape`` is [H, W] of
one crop; default: the codec's ``input_size``), several configs at once, and a per-component
breakdown from MMEngine's ``FlopAnalyzer`` / ``parameter_count`` (``mmengine.analysis``). FLOPs
follow MMEngine's (fvcore's) convention: one multiply-accumulate counts as one FLOP, batch 1, the
forward of each component on its real input (no flip test, no decoding; the neck includes the
GlobalNet's heatmap predictors, which eager inference runs). The model is built from the config
without ``init_weights`` and with the backbone's ``init_cfg`` cleared, so nothing is downloaded.
The counting is :func:`cpn_mm.apis.config_complexity` (also used by ``benchmarks/run.py``).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

from cpn_mm.apis import config_complexity
from cpn_mm.apis.complexity import PARTS
from cpn_mm.utils import InputError

sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/cli_flags.py
from cli_flags import flags_of  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='+', help='config file(s)')
    parser.add_argument('--input-shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help='crop size [H, W] (default: the codec\'s input_size)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in MMPose\'s tools')
    parser.add_argument('--markdown', action='store_true', help='print a Markdown table')
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def fmt(n: int, unit: float, digits: int = 2) -> str:
    return f'{n / unit:.{digits}f}'


def main(argv: Optional[List[str]] = None) -> List[Dict[str, object]]:
    args = parse_args(argv)
    try:
        results = [config_complexity(c, args.input_shape, args.cfg_options)
                   for c in args.config]
    except InputError as e:  # the library names its parameters: show our options instead
        print(f'error: {e.for_command_line(flags_of(build_parser()))}', file=sys.stderr)
        raise SystemExit(2)
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
