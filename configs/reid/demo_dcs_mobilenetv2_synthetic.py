# The embedded demo: MobileNetV2 + DCS attention (seed 001) Re-ID, trained
# from scratch on the synthetic Market-1501-layout dataset written by
# tools/misc/make_synthetic_reid.py. Sized for a 2-core CPU (about 10
# minutes, test mAP about 0.55): the 128x64 images are trained at 64x32
# (MobileNetV2 with last stride 1 keeps a 4x2 final map), with Adam at 3.5e-3
# for 55 epochs because the network starts from scratch (no download of
# ImageNet weights).
_base_ = [
    '../_base_/models/reid_mobilenetv2_dcs.py',
    '../_base_/datasets/market1501.py', '../_base_/default_runtime.py'
]
data_root = 'data/synthetic_reid'
input_size = (64, 32)

model = dict(head=dict(num_classes=100), flip_test=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', crop_size=input_size, padding=4),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        mode='const',
        fill_color=(124, 116, 104),
        min_area_ratio=0.02,
        max_area_ratio=0.2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
    dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query']),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(type='PKSampler', num_instances=4, batch_size=32),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=3.5e-3, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        T_max=54,
        eta_min=1e-5,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=55, val_interval=55)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=25, max_keep_ckpts=3))
