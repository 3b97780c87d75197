# Copyright (c) cpn_mm authors. All rights reserved.
"""CPN's 2D detections of a video or a folder of frames in the files 3D lifters train on:
MMPose's ``joint_2d_det_files`` (Human3.6M order, (T, 17, 3) x, y, score per track) and
VideoPose3D's per-video ``.npz`` of ``inference/infer_video_d2.py`` (COCO order; the input of
its ``data/prepare_data_2d_custom.py``).

    .venv/bin/python tools/export_2d_for_lifting.py CONFIG CHECKPOINT --input VIDEO|FOLDER
        [--formats mmpose videopose3d] [--out-dir DIR]
        [--det-config DET_CONFIG [--det-checkpoint DET_CKPT] | --bboxes BOX_JSON]
        [--backend auto|pytorch|onnxruntime|openvino] [--precision ...] [--onnx FILE]

Boxes and the runtime: as ``tools/demo.py``. Outputs under ``--out-dir``:
``joint_2d_det_files/<name>_track<id>.npy``, ``videopose3d/<input file name>.npz`` and
``export_2d.json`` (frames, frames without a person, per track its file and the frames it is
missing from). Layouts, coordinates, scores and how frames without a person are written:
``cpn_mm/apis/lifting_formats.py`` and ``docs/lifting.md``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from cpn_mm.apis import export_2d_for_lifting
from cpn_mm.apis.lifting_formats import EXPORT_FORMATS
from cpn_mm.runtime import BACKENDS
from cpn_mm.utils import InputError, keep_freed_memory

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import (add_box_flags, add_runtime_flags, add_tracking_flags,  # noqa: E402
                       check_box_flags, flags_of)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument('--input', required=True,
                        help='a video, a folder of frames (sorted by name) or an image')
    parser.add_argument('--formats', nargs='+', default=list(EXPORT_FORMATS),
                        choices=list(EXPORT_FORMATS), help='files to write')
    parser.add_argument('--out-dir', default='work_dirs/export_2d', help='output folder')
    add_box_flags(parser)
    add_runtime_flags(parser, BACKENDS)
    add_tracking_flags(parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_box_flags(parser, args)
    keep_freed_memory()  # process-wide, as tools/demo.py
    try:
        index = export_2d_for_lifting(**vars(args))
    except InputError as e:
        print(f'error: {e.for_command_line(flags_of(parser))}', file=sys.stderr)
        return 2
    for track_id, track in index['tracks'].items():
        print(f'track {track_id}: {track["file"]} (missing from frames: '
              f'{track["missing"] or "none"})')
    if index['videopose3d']:
        print(f'VideoPose3D: {index["videopose3d"]}')
    print(f'{index["frames"]} frame(s), without a person: '
          f'{index["frames_without_person"] or "none"}; index: {index["index"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
