# Copyright (c) cpn_mm authors. All rights reserved.
"""Top-down CPN demo: person boxes -> CPN keypoints -> drawn pictures and a COCO results JSON.

    .venv/bin/python tools/demo.py CONFIG CHECKPOINT --input IMAGE|FOLDER|VIDEO
        [--det-config DET_CONFIG [--det-checkpoint DET_CKPT] | --bboxes BOX_JSON]
        [--out-dir DIR] [--device cpu|cuda:0] [--kpt-thr 0.3] [--dtype float32|bfloat16]
        [--backend auto|pytorch|onnxruntime|openvino] [--precision f32|bf16|int8|default]
        [--onnx FILE] [--compile]

Person boxes come from one of three sources:

- an MMDetection detector (``--det-config``, optional ``--det-checkpoint``; run with
  ``mmdet.apis.init_detector`` / ``inference_detector``; boxes of ``--det-cat-id`` above
  ``--bbox-thr``, then NMS with ``--nms-thr``). Without a checkpoint the detector has random
  weights (no backbone weights are downloaded), which is only useful for smoke tests;
- a COCO-style box JSON (``--bboxes``): a list of ``{"image_id" or "file_name", "bbox": [x, y, w,
  h], "score", "category_id"}`` in input-image pixels, e.g. a COCO detection results file. Only
  ``category_id`` 1 (person; entries without one are kept) with ``score >= --bbox-thr`` are used.
  An entry matches an image by ``file_name`` (the image's base name) or by ``image_id`` (the
  image's id, see below);
- otherwise the whole frame is one box (score 1).

Boxes are clipped to the image (``[0, width] x [0, height]``); boxes left with no area after
clipping are dropped with a warning. All boxes of one image go through CPN in one batch
(MMPose's ``mmpose.apis.inference_topdown``).

Pose backends (``--backend``): ``pytorch`` (``model.test_step``; ``--precision bf16``, or
``--dtype bfloat16``, runs it under bfloat16 autocast, the heatmaps decoded in float32;
``--compile`` runs it through ``torch.compile``), ``onnxruntime`` or ``openvino`` (the heatmaps
from the ONNX file ``--onnx``, exported by ``tools/export_onnx.py`` or quantized to int8 by
``tools/quantize.py``; without ``--onnx`` the model is exported to
``<out-dir>/<config name>.onnx`` first). ``auto`` (the default) is OpenVINO on the CPU where
it is installed (bf16 where the CPU has bfloat16, int8 for a quantized ``--onnx``), PyTorch
otherwise. Pipeline, flip test and decoding are the same. The last line printed is the timing:
frames/s, detector and pose milliseconds per frame. The tool keeps glibc's freed memory in the
process (``cpn_mm.utils.keep_freed_memory``), as the benchmark measures.

Outputs under ``--out-dir``: the pictures drawn with MMPose's ``PoseLocalVisualizer`` (skeleton and
keypoints whose score is above ``--kpt-thr``) with the input's file name (a video: ``<name>.mp4``,
one drawn frame per input frame), and ``--pred-out`` (default ``<out-dir>/predictions.json``), a
COCO keypoint results list: ``{"image_id", "category_id": 1, "keypoints": [x, y, score] * K,
"score": box score x mean keypoint score, "bbox": [x, y, w, h]}``. Image ids: the number in a
COCO-style file name (``000000000785.jpg`` -> 785), otherwise the 0-based index of the image in
the sorted input; the frame index for a video. An image without any box is written unchanged (a
copy of the file) and has no results.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from cpn_mm.apis import run_demo
from cpn_mm.runtime import BACKENDS
from cpn_mm.utils import InputError, keep_freed_memory

sys.path.append(osp.dirname(osp.abspath(__file__)))  # tools/cli_flags.py
from cli_flags import add_box_flags, add_runtime_flags, check_box_flags, flags_of  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='CPN config file (e.g. configs/cpn_r50_coco_256x192.py)')
    parser.add_argument('checkpoint', help='CPN checkpoint file (.pth)')
    parser.add_argument(
        '--input', required=True, help='an image, a folder of images or a video file')
    add_box_flags(parser)
    parser.add_argument('--out-dir', default='work_dirs/demo', help='output folder')
    parser.add_argument(
        '--pred-out', default=None, help='results JSON (default <out-dir>/predictions.json)')
    add_runtime_flags(parser, BACKENDS)
    parser.add_argument(
        '--kpt-thr', type=float, default=0.3, help='draw keypoints with a score above this')
    parser.add_argument('--radius', type=int, default=3, help='keypoint radius (pixels)')
    parser.add_argument('--thickness', type=int, default=2, help='skeleton line width (pixels)')
    parser.add_argument('--draw-bbox', action='store_true', help='also draw the boxes')
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_box_flags(parser, args)
    return args  # which backend takes which precision and file: the library's one rule


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # process-wide, so set by the application, not the library: glibc keeps freed memory for
    # the next batch instead of page-faulting every activation anew (CPU inference about 2x
    # faster at B=32; benchmarks/README.md, "CPU inference paths")
    keep_freed_memory()
    try:
        summary = run_demo(**vars(args))
    except InputError as e:  # the library names its parameters: show our options instead
        flags = flags_of(build_parser(), onnx_file='--onnx')
        print(f'error: {e.for_command_line(flags)}', file=sys.stderr)
        return 2
    print(f'{len(summary["outputs"])} picture(s)/video(s) in {args.out_dir}; '
          f'{summary["num_results"]} person(s) in {summary["pred_out"]}')
    t = summary['timing']
    frames = max(t['frames'], 1)
    print(f'{t["frames"]} frame(s) in {t["total_s"]:.2f} s ({t["fps"]:.2f} frames/s): detector '
          f'{1e3 * t["detector_s"] / frames:.1f} ms/frame, pose {1e3 * t["pose_s"] / frames:.1f} '
          f'ms/frame for {t["persons"] / frames:.1f} person(s)/frame ({summary["runtime"]})'
          + (f'; compilation {t["compile_s"]:.1f} s of the pose time' if t['compile_s'] else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
