# CPN-R50, COCO 256x192 (Chen et al., CVPR 2018; tf-cpn). The other COCO configs inherit this one.
# Recipe: MMPose's MSPN-50 schedule (Adam 5e-3 for a total batch of 256, 500-iteration linear
# warm-up, 210 epochs, x0.1 at 170 and 200), with CPN's targets, losses and test-time decoding.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['cpn_mm'], allow_failed_imports=False)

# runtime
train_cfg = dict(max_epochs=210, val_interval=10)

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-3))

# learning policy
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True)
]

# automatically scaling LR based on the actual training batch size (8 GPUs x 32)
auto_scale_lr = dict(base_batch_size=256)

# hooks
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))

# codec settings: GlobalNet kernels 15/11/9/7 for P2..P5 and 7 for RefineNet (tf-cpn)
input_size = (192, 256)
heatmap_size = (48, 64)
codec = dict(
    type='MultiSigmaHeatmap',
    input_size=input_size,
    heatmap_size=heatmap_size,
    kernel_sizes=(15, 11, 9, 7),
    refine_kernel_size=7)

# model settings
model = dict(
    type='MixedPrecisionTopdownPoseEstimator',  # TopdownPoseEstimator + test_cfg.dtype
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='CPNGlobalNet',
        in_channels=(256, 512, 1024, 2048),
        out_channels=256,
        num_keypoints=17,
        heatmap_size=heatmap_size),
    head=dict(
        type='CPNRefineHead',
        in_channels=256,
        num_levels=4,
        num_keypoints=17,
        loss_global=dict(type='MaskedTargetMSELoss', loss_weight=0.5),
        loss_refine=dict(type='OHKMMaskedMSELoss', topk=8, loss_weight=1.0),
        decoder=codec),
    # dtype: inference precision, 'float32' or 'bfloat16' (autocast; decoding reads float32)
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False, dtype='float32'))

# base dataset settings (dataset_type is read by MMPoseInferencer)
dataset_type = 'CPNCocoDataset'
data_mode = 'topdown'
data_root = 'data/coco/'

# pipelines
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

# data loaders. CPNCocoDataset keeps COCO's visible flag (v == 2) for the GlobalNet targets.
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CPNCocoDataset',
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline,
    ))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file=data_root + 'person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

# evaluators: tf-cpn's scoring, instance score = box score x mean of all keypoint scores (the
# threshold keeps every keypoint), no OKS-NMS
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json',
    score_mode='bbox_keypoint',
    keypoint_score_thr=-1e9,
    nms_mode='none')
test_evaluator = val_evaluator
