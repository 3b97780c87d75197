# pytorch-cpn's released COCO.res101.384x288.CPN: pytorch-cpn_r50_coco_384x288.py with ResNet-101.
_base_ = ['./pytorch-cpn_r50_coco_384x288.py']

model = dict(backbone=dict(depth=101))
