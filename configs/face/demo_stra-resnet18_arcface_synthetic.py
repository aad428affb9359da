# The face demo: a narrow ResNet-18 with StRA in layer4 (conv2 of both
# blocks), the BN-Dropout-FC-BN embedding and an ArcFace head, trained from
# scratch on the synthetic faces of tools/misc/make_synthetic_faces.py
# (data/synthetic_faces/train) and evaluated on its LFW-format set
# (data/synthetic_faces/lfw, 10-fold verification accuracy). Small enough
# for a 2-core CPU: 64 x 64 inputs, 16 base channels, 128-d embedding.
_base_ = [
    './_base_/stra-resnet50_face.py', './_base_/face_112x112.py',
    './_base_/sgd_20e.py', '../_base_/default_runtime.py'
]
data_root = 'data/synthetic_faces'
input_size = 64

model = dict(
    backbone=dict(
        backbone=dict(depth=18, stem_channels=16, base_channels=16),
        dummy_input_shape=(1, 3, input_size, input_size)),
    neck=dict(
        in_channels=128, feature_size=(4, 4), embed_dim=128, dropout=0.2),
    head=dict(
        type='ArcFaceHead',
        num_classes=100,
        in_channels=128,
        scale=20.0,
        margin=0.15))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=f'{data_root}/train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        data_root=f'{data_root}/lfw', img_dir='', pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[8, 12], gamma=0.1),
]
train_cfg = dict(max_epochs=15, val_interval=5)
auto_scale_lr = dict(enable=False, base_batch_size=32)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=2,
        save_best='lfw/accuracy',
        rule='greater'))
