# Copyright (c) cpn_mm authors. All rights reserved.
"""Convert a tf-cpn checkpoint (TF1 name-based, github.com/chenyilun95/tf-cpn) to an MMEngine
checkpoint for the configs in configs/tf-cpn/. Needs TensorFlow: requirements/convert.txt.

    python tools/model_converters/tf_cpn2mmpose.py COCO.res50.256x192.CPN/snapshot_350.ckpt \\
        checkpoints/tf-cpn_r50_coco_256x192.pth
"""
import argparse
import os
import sys

from cpn_mm.converters import CheckpointConversionError, convert_tf_cpn


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a tf-cpn TensorFlow checkpoint to an MMEngine checkpoint')
    parser.add_argument('src', help='checkpoint prefix (e.g. snapshot_350.ckpt, without '
                        '.index/.data-*), one of its files, or its directory')
    parser.add_argument('dst', help='output .pth file (written only if everything maps)')
    parser.add_argument('--config', help='check against this config\'s model instead of '
                        'tf-cpn\'s layout for the depth found in the checkpoint')
    return parser.parse_args()


def main():
    args = parse_args()
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')  # TensorFlow's start-up INFO lines
    try:
        dst, meta = convert_tf_cpn(args.src, args.dst, config=args.config)
    except (CheckpointConversionError, ImportError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    print(f'converted {meta["source_variables"]} variables of {meta["converted_from"]} '
          f'({meta["ignored_variables"]} optimizer/step variables ignored) -> {dst}')


if __name__ == '__main__':
    main()
