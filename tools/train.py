# Copyright (c) cpn_mm authors. All rights reserved.
"""Train a CPN model: MMPose's ``tools/train.py`` with cpn_mm registered.

Same options as MMPose's (``--work-dir``, ``--resume [path]``, ``--amp``, ``--no-validate``,
``--auto-scale-lr``, ``--show-dir``, ``--cfg-options``, ``--launcher``); in addition, on machines
without CUDA ``--amp`` trains with bfloat16 autocast on the CPU
(:class:`cpn_mm.engine.CPUAmpOptimWrapper`; with CUDA it is MMEngine's ``AmpOptimWrapper`` as
usual) and ``--launcher pytorch`` uses the gloo backend (:func:`cpn_mm.utils.adapt_to_device`);
resuming works under torch >= 2.6 (see ``cpn_mm/utils/safe_load.py``).

    python tools/train.py configs/cpn_r50_coco_256x192.py [--work-dir DIR] [--resume] [--amp]
"""
from typing import List, Optional

import cpn_mm  # noqa: F401  (registers cpn_mm, allows MMEngine checkpoints in torch.load)
from cpn_mm.utils import run_mmpose_tool


def main(argv: Optional[List[str]] = None) -> None:
    run_mmpose_tool('train', argv=argv)


if __name__ == '__main__':
    main()
