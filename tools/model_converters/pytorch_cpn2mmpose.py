# Copyright (c) cpn_mm authors. All rights reserved.
"""Convert a pytorch-cpn checkpoint (github.com/GengDavid/pytorch-cpn, ``{'epoch', 'state_dict',
'optimizer'}`` of a DataParallel model) to an MMEngine checkpoint for configs/pytorch-cpn/.

    python tools/model_converters/pytorch_cpn2mmpose.py CPN50_256x192.pth.tar \\
        checkpoints/pytorch-cpn_r50_coco_256x192.pth
"""
from cpn_mm.converters import convert_pytorch_cpn
from cpn_mm.converters.cli import converter_main

if __name__ == '__main__':
    converter_main(convert_pytorch_cpn, 'pytorch-cpn', 'pytorch-cpn checkpoint (.pth.tar)')
