# Copyright (c) cpn_mm authors. All rights reserved.
"""The command line shared by ``tools/model_converters/*2mmpose.py``."""
import argparse
import sys
from typing import Callable, Optional, Sequence

from .common import CheckpointConversionError


def converter_main(convert: Callable, source: str, src_help: str,
                   argv: Optional[Sequence[str]] = None) -> None:
    """Parse ``src dst [--config CONFIG]``, run ``convert(src, dst, config=...)`` and print what
    was converted; a conversion error (or a missing TensorFlow) exits with status 1 and the
    message, without a traceback.

    Args:
        convert (callable): :func:`convert_tf_cpn` or :func:`convert_pytorch_cpn`
        source (str): The source's name, e.g. ``'tf-cpn'``
        src_help (str): Help of the ``src`` argument
        argv (Sequence[str], optional): Arguments; ``sys.argv[1:]`` when ``None``
    """
    parser = argparse.ArgumentParser(
        description=f'Convert a {source} checkpoint to an MMEngine checkpoint')
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output .pth file (written only if everything maps)')
    parser.add_argument('--config', help='check against this config\'s model instead of '
                        f'{source}\'s layout for the depth found in the checkpoint')
    args = parser.parse_args(argv)
    try:
        dst, meta = convert(args.src, args.dst, config=args.config)
    except (CheckpointConversionError, ImportError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    folded = meta.get('folded_biases')
    note = f', {len(folded)} top-down conv biases folded into BN' if folded else ''
    print(f'converted {meta["source_variables"]} variables of {meta["converted_from"]} '
          f'({meta["ignored_variables"]} optimizer/step/bookkeeping variables ignored{note}) '
          f'-> {dst}')
