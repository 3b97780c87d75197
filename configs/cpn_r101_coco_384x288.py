# CPN-R101, COCO 384x288: cpn_r50_coco_384x288.py with a ResNet-101 backbone.
_base_ = ['./cpn_r50_coco_384x288.py']

model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
