# Copyright (c) cpn_mm authors. All rights reserved.
"""Convert a pytorch-cpn checkpoint (github.com/GengDavid/pytorch-cpn, ``{'epoch', 'state_dict',
'optimizer'}`` of a DataParallel model) to an MMEngine checkpoint for configs/pytorch-cpn/.

    python tools/model_converters/pytorch_cpn2mmpose.py CPN50_256x192.pth.tar \\
        checkpoints/pytorch-cpn_r50_coco_256x192.pth
"""
import argparse
import sys

from cpn_mm.converters import CheckpointConversionError, convert_pytorch_cpn


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a pytorch-cpn checkpoint to an MMEngine checkpoint')
    parser.add_argument('src', help='pytorch-cpn checkpoint (.pth.tar)')
    parser.add_argument('dst', help='output .pth file (written only if everything maps)')
    parser.add_argument('--config', help='check against this config\'s model instead of '
                        'pytorch-cpn\'s layout for the depth found in the checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        dst, meta = convert_pytorch_cpn(args.src, args.dst, config=args.config)
    except CheckpointConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    folded = meta['folded_biases']
    note = f', {len(folded)} top-down conv biases folded into BN' if folded else ''
    print(f'converted {meta["source_variables"]} tensors of {meta["converted_from"]} '
          f'({meta["ignored_variables"]} num_batches_tracked ignored{note}) -> {dst}')


if __name__ == '__main__':
    main()
