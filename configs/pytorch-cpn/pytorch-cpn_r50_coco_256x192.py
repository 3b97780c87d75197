# pytorch-cpn's released COCO.res50.256x192.CPN (github.com/GengDavid/pytorch-cpn), converted
# with tools/model_converters/pytorch_cpn2mmpose.py: cpn_r50_coco_256x192.py with the options
# that make cpn_mm compute pytorch-cpn's network and pytorch-cpn's input normalisation
# (docs/converted_models.md).
_base_ = ['../cpn_r50_coco_256x192.py']

norm_cfg = dict(type='BN', eps=1e-5)

model = dict(
    # pytorch-cpn: RGB, pixel / 255 - mean / 255 (no std)
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[122.7717, 115.9465, 102.9801],
        std=[255., 255., 255.],
        bgr_to_rgb=True),
    # the weights come from the converted checkpoint: no ImageNet initialisation
    backbone=dict(init_cfg=None),
    # bilinear resizes with align_corners=True; top-down: 1x1 conv without bias, then BN after
    # the upsampling; GlobalNet predictors: BN after the resize to the output size
    neck=dict(
        norm_cfg=norm_cfg,
        resize_mode='align_corners',
        merge_norm_cfg=norm_cfg,
        heatmap_norm_after_resize=True),
    # every cascade bottleneck with a projection shortcut (the converter reorders the last
    # bottleneck's input channels from pytorch-cpn's P5..P2 concatenation)
    head=dict(norm_cfg=norm_cfg, resize_mode='align_corners', cascade_projection_shortcut=True))

# test-time crop: pytorch-cpn extends the box by 0.1 of its width and 0.15 of its height on each
# side (x1.2, x1.3), fixes the aspect ratio by growing the short side and cv2.resize-s the crop.
# MMPose scales both sides by one factor: 1.3 gives pytorch-cpn's crop for every box taller
# than 1.23x its width; see docs/converted_models.md for the remaining differences.
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.3),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(type='PackPoseInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
