# Copyright (c) cpn_mm authors. All rights reserved.
"""Convert a COCO person-keypoint annotation file to Human3.6M's 17 joints (MMPose's COCO to
Human3.6M joint definitions; a derived joint is labelled/visible only if all its sources are).

    python tools/dataset_converters/coco_to_h36m.py data/coco_sample/test_coco.json \\
        data/coco_sample/h36m_standin.json

The library code is ``cpn_mm.datasets.coco_to_h36m``.
"""
import argparse
import json
import os.path as osp

from cpn_mm.datasets import coco_to_h36m_annotations


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='COCO keypoint annotation file (.json)')
    parser.add_argument('out_file', help='where to write the Human3.6M-17 file (.json)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    if not osp.isfile(args.in_file):
        raise SystemExit(f'in_file: no such file: {args.in_file}')
    with open(args.in_file) as f:
        coco = json.load(f)
    try:
        out = coco_to_h36m_annotations(coco, source=args.in_file)
    except ValueError as e:
        raise SystemExit(f'in_file: {e}')
    with open(args.out_file, 'w') as f:
        json.dump(out, f)
    print(f'{len(out["annotations"])} annotations converted to Human3.6M-17: {args.out_file}')
    return args.out_file


if __name__ == '__main__':
    main()
