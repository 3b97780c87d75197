# The Human3.6M layout on the embedded sample: CPN-R18 at 192x144, the COCO sample's recipe
# (cpn_r18_coco-sample_192x144.py: schedule, model, codec, hooks) on a stand-in in
# cpn_r50_h36m_256x192.py's format. Human3.6M cannot be embedded; the stand-in,
# data/coco_sample/h36m_standin.json, is the COCO sample's persons converted to Human3.6M's 17
# joints (tools/dataset_converters/coco_to_h36m.py; COCO's flags, so occlusion_labels stays True).
# Trained from scratch, so it overfits the sample: a smoke test of the layout, not a model.
_base_ = ['./cpn_r18_coco-sample_192x144.py']

data_root = '{{fileDirname}}/../data/coco_sample/'
dataset_type = 'CPNH36mDataset'

default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))

train_dataloader = dict(
    dataset=dict(
        metainfo=dict(from_file='configs/_base_/datasets/h36m.py'),
        datasets=[
            dict(
                type='RepeatDataset',
                times=10,
                dataset=dict(
                    type=dataset_type,
                    data_root=data_root,
                    data_mode='topdown',
                    ann_file='h36m_standin.json',
                    data_prefix=dict(img=''),
                    pipeline=[]))
        ]))
# validation and test: ground-truth boxes (PCK needs the ground-truth keypoints)
val_dataloader = dict(dataset=dict(type=dataset_type, ann_file='h36m_standin.json'))
test_dataloader = dict(dataset=dict(type=dataset_type, ann_file='h36m_standin.json',
                                    bbox_file=None))

# PCK at 0.05 of the box size and EPE (pixels), as cpn_r50_h36m_256x192.py
val_evaluator = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'), dict(type='EPE')]
test_evaluator = val_evaluator
