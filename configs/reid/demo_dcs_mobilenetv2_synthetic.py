# The embedded demo: MobileNetV2 + DCS attention (seed 001) Re-ID, trained
# from scratch on the synthetic Market-1501-layout dataset written by
# tools/misc/make_synthetic_reid.py; small enough for a 2-core CPU.
_base_ = [
    '../_base_/models/reid_mobilenetv2_dcs.py',
    '../_base_/datasets/market1501.py',
    '../_base_/default_runtime.py'
]
data_root = 'data/synthetic_reid'
input_size = (128, 64)

# Last stride 2 (stock MobileNetV2) keeps the demo inside the CPU budget.
model = dict(
    backbone=dict(backbone=dict(last_stride=2)),
    head=dict(num_classes=100))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', crop_size=input_size, padding=6),
    dict(type='RandomErasing', erase_prob=0.5, mode='const',
         fill_color=(124, 116, 104), min_area_ratio=0.02,
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
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, T_max=14,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2,
                    save_best='reid/mAP', rule='greater'))
