# CPN-R50, COCO 384x288: cpn_r50_coco_256x192.py at the larger input, with tf-cpn's 384x288 target
# kernels (models/COCO.res50.384x288.CPN/config.py: gk15..gk7 = 23, 17, 13, 9; the RefineNet
# target is made with gk7 = 9). Test-time decoding is the same as at 256x192.
_base_ = ['./cpn_r50_coco_256x192.py']

input_size = (288, 384)
heatmap_size = (72, 96)
codec = dict(
    type='MultiSigmaHeatmap',
    input_size=input_size,
    heatmap_size=heatmap_size,
    kernel_sizes=(23, 17, 13, 9),
    refine_kernel_size=9)

model = dict(neck=dict(heatmap_size=heatmap_size), head=dict(decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
