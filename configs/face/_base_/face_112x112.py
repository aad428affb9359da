# Face data: training identities in an image folder (<root>/<id>/*.jpg,
# e.g. an extracted CASIA-WebFace: 10,572 identities; seed 003 trains on a
# union of public sets, set model.head.num_classes to your identity count),
# validation / test on LFW in its release format (pairs.txt + lfw/<name>/).
# Images are aligned 112 x 112 crops; only random flips augment training.
train_root = 'data/face_train'
lfw_root = 'data/lfw'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(112, 112)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(112, 112)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,  # x 8 GPUs = 512 (seed 003)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='FaceImageFolder', data_root=train_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LFWPairs',
        data_root=lfw_root,
        ann_file='pairs.txt',
        img_dir='lfw',
        name='lfw',
        pipeline=test_pipeline))
val_evaluator = dict(type='FaceVerificationMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
