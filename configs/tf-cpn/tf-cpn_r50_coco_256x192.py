# tf-cpn's released COCO.res50.256x192.CPN (github.com/chenyilun95/tf-cpn), converted with
# tools/model_converters/tf_cpn2mmpose.py: cpn_r50_coco_256x192.py with the options that make
# cpn_mm compute tf-cpn's network and tf-cpn's input normalisation (docs/converted_models.md).
_base_ = ['../cpn_r50_coco_256x192.py']

# BN epsilon: tf-cpn asks for 1e-9, but TF1's fused batch norm (which trained and tested the
# released models) raised any epsilon below 1.001e-5 to 1.001e-5
norm_cfg = dict(type='BN', eps=1.001e-5)

model = dict(
    # tf-cpn: BGR (OpenCV's order, as MMPose loads images), (pixel - mean) / 255
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[102.9801, 115.9465, 122.7717],
        std=[255., 255., 255.],
        bgr_to_rgb=False),
    # the weights come from the converted checkpoint: no ImageNet initialisation
    backbone=dict(norm_cfg=dict(type='BN', eps=1.001e-5, requires_grad=True), init_cfg=None),
    # every resize is TF1's tf.image.resize_bilinear (align_corners=False,
    # half_pixel_centers=False); merge convs with bias, no BN; identity cascade shortcuts
    neck=dict(norm_cfg=norm_cfg, resize_mode='asymmetric'),
    head=dict(norm_cfg=norm_cfg, resize_mode='asymmetric'))

# test-time crop: tf-cpn extends the box by 0.1 of its width and 0.15 of its height on each
# side (x1.2, x1.3), fixes the aspect ratio by growing the short side and cv2.resize-s the crop.
# MMPose scales both sides by one factor: 1.3 gives tf-cpn's crop for every box taller than
# 1.23x its width; see docs/converted_models.md for the remaining differences.
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.3),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(type='PackPoseInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
