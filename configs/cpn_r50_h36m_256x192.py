# CPN-R50 on Human3.6M's 17 joints (2D), 256x192: the usual source of the "cpn-ft" 2D detections
# that MMPose's video_pose_lift/h36m lifters take. The COCO R50 recipe (model, codec, losses,
# schedule, top-down pipeline) with MMPose's Human3.6M metainfo and joint order.
# Fine-tuning recipe: start from a COCO CPN (the usual practice), e.g. a checkpoint trained with
# cpn_r50_coco_256x192.py or converted for configs/tf-cpn/, through load_from (or
# `tools/train.py ... --cfg-options load_from=<checkpoint>`); its 17 COCO output channels load into
# the 17 Human3.6M ones, which fine-tuning re-learns. Nothing is downloaded for it. The schedule is
# the COCO one, not tuned for Human3.6M.
_base_ = ['./cpn_r50_coco_256x192.py']

load_from = None  # a COCO CPN checkpoint to fine-tune from

# Human3.6M metainfo has no OKS sigmas (no COCO AP): PCK at 0.05 of the box size, and EPE in
# pixels, as MMPose 0.x evaluated TopDownH36MDataset
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))

# base dataset settings (dataset_type is read by MMPoseInferencer)
dataset_type = 'CPNH36mDataset'
data_mode = 'topdown'
data_root = 'data/h36m/'
# Annotations: COCO-format JSON with the 17 Human3.6M joints, as MMPose's
# tools/dataset_converters/h36m_to_coco.py writes them from preprocess_h36m.py's
# annotation_body3d/fps*/h36m_{train,test}.npz (with --full-img-name, images under images/).
# That tool writes v = 1 for every joint (motion capture has no occlusion label), hence
# occlusion_labels=False: every labelled joint is a GlobalNet target.
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotation_body2d/h36m_coco_train.json',
        data_prefix=dict(img='images/'),
        occlusion_labels=False))
# validation and test: ground-truth boxes
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotation_body2d/h36m_coco_test.json',
        bbox_file=None,
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader

val_evaluator = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'), dict(type='EPE')]
test_evaluator = val_evaluator
