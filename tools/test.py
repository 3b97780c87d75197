# Copyright (c) cpn_mm authors. All rights reserved.
"""Test (evaluate) a CPN checkpoint: MMPose's ``tools/test.py`` with cpn_mm registered.

Same options as MMPose's (``--work-dir``, ``--out``, ``--dump``, ``--show-dir``,
``--cfg-options``, ``--launcher``); runs without CUDA use gloo for ``--launcher pytorch``.
Inference in bfloat16 (autocast; heatmaps decoded in float32) is the config's
``model.test_cfg.dtype`` (:class:`cpn_mm.models.MixedPrecisionTopdownPoseEstimator`):

    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT [--dump results.pkl]
    python tools/test.py configs/cpn_r50_coco_256x192.py CHECKPOINT \\
        --cfg-options model.test_cfg.dtype=bfloat16
"""
import cpn_mm  # noqa: F401  (registers cpn_mm, allows MMEngine checkpoints in torch.load)
from cpn_mm.apis import InputError
from cpn_mm.apis.inference import check_file
from cpn_mm.utils import run_mmpose_tool


def check_args(args) -> None:
    """Fail with a message, not a traceback, when the checkpoint file is missing."""
    try:
        check_file(args.checkpoint, 'checkpoint')
    except InputError as e:
        raise SystemExit(f'error: {e.for_command_line(dict(checkpoint="checkpoint"))}')


if __name__ == '__main__':
    run_mmpose_tool('test', check_args)
