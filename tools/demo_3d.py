# Copyright (c) cpn_mm authors. All rights reserved.
"""Video or images to 3D poses: person boxes -> CPN -> track ids -> Human3.6M keypoints -> an
MMPose pose lifter -> 3D keypoints per person and frame, saved and drawn.

    .venv/bin/python tools/demo_3d.py CONFIG CHECKPOINT LIFTER_CONFIG --input VIDEO|FOLDER|IMAGE
        [--lifter-checkpoint LIFTER_CKPT] [--det-config DET_CONFIG [--det-checkpoint DET_CKPT]
        | --bboxes BOX_JSON] [--out-dir DIR] [--save json npz] [--no-draw]
        [--backend auto|pytorch|onnxruntime|openvino] [--precision f32|bf16|int8|default]
        [--onnx FILE] [--compile] [--use-oks-tracking] [--disable-norm-pose-2d]

Boxes and the 2D runtime: as ``tools/demo.py`` (an MMDetection detector, a COCO-style box
JSON, or the whole frame; PyTorch, ONNX Runtime, OpenVINO or ``torch.compile``, ``auto``: the
fastest installed CPU path). The lifter: any MMPose ``PoseLifter`` config, e.g. MMPose's
``configs/body_3d_keypoint/video_pose_lift/h36m/video-pose-lift_tcn-243frm-supv-cpn-ft_8xb128-200e_h36m.py``
(1, 27, 81 or 243 frames, causal or not); without ``--lifter-checkpoint`` its weights are
random (a warning). CPN's COCO keypoints are converted to Human3.6M's 17 joints with MMPose's
``convert_keypoint_definition`` (no conversion for a 2D model in the lifter's layout; other
layouts: an error naming both). Windows reaching past the first/last frame repeat it (MMPose's
``extract_pose_sequence``); a video shorter than the lifter's receptive field is lifted with a
warning.

Outputs under ``--out-dir``: ``predictions_3d.json`` / ``predictions_3d.npz`` (``--save``;
keys, shapes, units, joint order and track ids: ``cpn_mm/apis/lifting.py`` and
``docs/lifting.md``), and, unless ``--no-draw``, the frames drawn with MMPose's 3D visualizer
(2D poses next to the 3D ones): ``<name>.mp4`` for a video, one image per input image. The
printed lines: the files, the frames without a person, the padded frames, the timing.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from cpn_mm.apis import run_demo_3d
from cpn_mm.apis.lifting import SAVE_FORMATS
from cpn_mm.runtime import BACKENDS
from cpn_mm.utils import InputError, keep_freed_memory

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import (add_box_flags, add_runtime_flags, add_tracking_flags,  # noqa: E402
                       check_box_flags, flags_of)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file (e.g. configs/cpn_r50_coco_256x192.py)')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument('lifter_config', help='MMPose pose lifter config (PoseLifter)')
    parser.add_argument(
        '--input', required=True, help='a video, a folder of images (one sequence) or an image')
    parser.add_argument(
        '--lifter-checkpoint', default=None, help='lifter checkpoint; random weights if omitted')
    add_box_flags(parser)
    parser.add_argument('--out-dir', default='work_dirs/demo_3d', help='output folder')
    parser.add_argument('--save', nargs='+', default=list(SAVE_FORMATS),
                        choices=list(SAVE_FORMATS), help='prediction files to write')
    parser.add_argument('--no-draw', dest='draw', action='store_false',
                        help='do not draw the frames')
    add_runtime_flags(parser, BACKENDS)
    add_tracking_flags(parser)
    parser.add_argument('--disable-norm-pose-2d', dest='norm_pose_2d', action='store_false',
                        help='do not move/scale boxes to the lifter dataset\'s mean box '
                        '(MMPose\'s demo option of the same name)')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='draw keypoints above this')
    parser.add_argument('--radius', type=int, default=3, help='keypoint radius (pixels)')
    parser.add_argument('--thickness', type=int, default=1, help='skeleton line width (pixels)')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_box_flags(parser, args)
    keep_freed_memory()  # process-wide, as tools/demo.py
    try:
        summary = run_demo_3d(**vars(args))
    except InputError as e:
        print(f'error: {e.for_command_line(flags_of(parser))}', file=sys.stderr)
        return 2
    print(f'{summary["persons"]} 3D pose(s) of {summary["tracks"]} track(s) in '
          f'{summary["frames"]} frame(s): {", ".join(summary["predictions"])}')
    if summary['outputs']:
        print(f'drawn: {", ".join(summary["outputs"])}')
    print(f'frames without a person: {summary["frames_without_person"] or "none"}')
    w = summary['window']
    print(f'lifter window {w["seq_len"]} frame(s), step {w["seq_step"]}, '
          f'{"causal" if w["causal"] else "centred"}; padded (edge frames repeated): '
          f'{len(summary["padded_frames"])} of {summary["frames"]} frame(s)')
    t = summary['timing']
    frames = max(summary['frames'], 1)
    print(f'{summary["frames"]} frame(s) in {t["total_s"]:.2f} s: detector '
          f'{1e3 * t["detector_s"] / frames:.1f} ms/frame, pose {1e3 * t["pose_s"] / frames:.1f} '
          f'ms/frame ({summary["runtime"]}), lifter {1e3 * t["lift_s"] / frames:.1f} ms/frame, '
          f'drawing {t["draw_s"]:.2f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
