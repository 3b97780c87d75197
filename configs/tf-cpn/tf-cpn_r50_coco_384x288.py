# tf-cpn's released COCO.res50.384x288.CPN: tf-cpn_r50_coco_256x192.py at 384x288.
_base_ = ['./tf-cpn_r50_coco_256x192.py']

input_size = (288, 384)
heatmap_size = (72, 96)
codec = dict(
    type='MultiSigmaHeatmap',
    input_size=input_size,
    heatmap_size=heatmap_size,
    kernel_sizes=(23, 17, 13, 9),  # the sources' 384x288 targets (gk15..gk7), as
    refine_kernel_size=9)          # configs/cpn_r50_coco_384x288.py

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
    dict(type='GetBBoxCenterScale', padding=1.3),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
