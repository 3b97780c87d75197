# Copyright (c) cpn_mm authors. All rights reserved.
"""Convert a tf-cpn checkpoint (TF1 name-based, github.com/chenyilun95/tf-cpn) to an MMEngine
checkpoint for the configs in configs/tf-cpn/. Needs TensorFlow: requirements/convert.txt.

    python tools/model_converters/tf_cpn2mmpose.py COCO.res50.256x192.CPN/snapshot_350.ckpt \\
        checkpoints/tf-cpn_r50_coco_256x192.pth
"""
import os

from cpn_mm.converters import convert_tf_cpn
from cpn_mm.converters.cli import converter_main

if __name__ == '__main__':
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')  # TensorFlow's start-up INFO lines
    converter_main(convert_tf_cpn, 'tf-cpn', 'checkpoint prefix (e.g. snapshot_350.ckpt, without '
                   '.index/.data-*), one of its files, or its directory')
