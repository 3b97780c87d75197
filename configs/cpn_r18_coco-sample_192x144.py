# CPN with a ResNet-18 backbone and a 128-channel pyramid at 192x144 on the embedded real COCO
# sample (data/coco_sample: 4 val2017 images, 12 annotated persons), sized to train and evaluate
# on a CPU in a few minutes.
# Same codec, neck, head, losses and decoding as the COCO configs; trained from scratch (no
# download), so it overfits the sample: a smoke test and a demo, not a COCO model.
_base_ = ['./cpn_r50_coco_256x192.py']

# the sample lives next to the configs (also inside the installed package's .mim folder)
data_root = '{{fileDirname}}/../data/coco_sample/'

# an epoch is 10 passes over the 12 persons (RepeatDataset below), one batch each
train_cfg = dict(max_epochs=15, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=20, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=15, milestones=[12], gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=12)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, save_best='coco/AP', rule='greater',
                    max_keep_ckpts=1))
log_processor = dict(window_size=10)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
# CPU speed, same maths (README "Speed"): NHWC convolutions, and reuse of freed memory instead
# of page-faulting fresh memory every step
custom_hooks = [dict(type='ChannelsLastHook'), dict(type='KeepFreedMemoryHook')]

input_size = (144, 192)
heatmap_size = (36, 48)
codec = dict(
    type='MultiSigmaHeatmap',
    input_size=input_size,
    heatmap_size=heatmap_size,
    kernel_sizes=(15, 11, 9, 7),
    refine_kernel_size=7)

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=(64, 128, 256, 512), out_channels=128, heatmap_size=heatmap_size),
    head=dict(in_channels=128, mid_channels=64, decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
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

# The repetition (RepeatDataset) sits in MMPose's CombinedDataset, as in MMPose's aic-coco
# configs, because the wrapper states the keypoint layout (metainfo): MMPose's
# dataset_meta_from_config (init_model and MMPoseInferencer without a checkpoint) reads it from
# train_dataloader.dataset, and a bare RepeatDataset has none. One sub-dataset, no resampling:
# sample i is RepeatDataset's sample i, through the same pipeline.
train_dataloader = dict(
    batch_size=12,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo=dict(from_file='configs/_base_/datasets/coco.py'),
        datasets=[
            dict(
                type='RepeatDataset',
                times=10,
                dataset=dict(
                    type='CPNCocoDataset',
                    data_root=data_root,
                    data_mode='topdown',
                    ann_file='test_coco.json',
                    data_prefix=dict(img=''),
                    pipeline=[]))
        ],
        pipeline=train_pipeline))
# validation: ground-truth boxes
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root,
        ann_file='test_coco.json',
        bbox_file=None,
        data_prefix=dict(img=''),
        pipeline=val_pipeline))
# test: the shipped person detections (a detector with human AP 56)
test_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        type='CPNCocoDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='test_coco.json',
        bbox_file=data_root + 'test_coco_det_AP_H_56.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=val_pipeline))
val_evaluator = dict(ann_file=data_root + 'test_coco.json')
test_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'test_coco.json',
    score_mode='bbox_keypoint',
    keypoint_score_thr=-1e9,
    nms_mode='none')
