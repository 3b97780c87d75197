# CPN-R101, COCO 256x192: cpn_r50_coco_256x192.py with a ResNet-101 backbone.
_base_ = ['./cpn_r50_coco_256x192.py']

model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
