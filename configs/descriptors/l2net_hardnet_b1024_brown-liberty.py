# HardNet (Mishchuk et al. 2017) with L2Net on Brown, the baseline of seed
# 002 table 7: trained on Liberty, FPR95 on Notredame and Yosemite.
# Schedule of seed 002 / HardNet: 5M positive pairs, batch 1024 (distinct 3D
# points per batch), random flip + 90 degree rotation, SGD momentum 0.9,
# weight decay 1e-4, lr 10 decayed linearly to 0 over 10 epochs.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/brown'
train_sequences = ['liberty']
test_sequences = ['notredame', 'yosemite']
batch_size = 1024

model = dict(
    type='PatchDescriptor',
    backbone=dict(type='L2Net', patch_size=32, dropout=0.3),
    loss=dict(type='HardNetLoss', margin=1.0),
    data_preprocessor=dict(type='PatchDataPreprocessor'))

train_pipeline = [
    dict(type='RandomPatchFlipRotate', flip_prob=0.5, rotate_prob=0.5),
    dict(type='PackPatchInputs'),
]
test_pipeline = [dict(type='PackPatchInputs')]

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=4,
    persistent_workers=True,
    # The pairs are drawn in random order with distinct 3D points in every
    # run of chunk_size pairs: read them in order so a batch is such a run.
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BrownDataset',
        data_root=data_root,
        sequences=train_sequences,
        split='train',
        num_pairs=5_000_000,
        chunk_size=batch_size,
        patch_size=32,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1024,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BrownDataset',
        data_root=data_root,
        sequences=test_sequences,
        split='test',
        pairs_file='m50_100000_100000_0.txt',
        patch_size=32,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FPR95Metric')
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=10.0, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='brown/fpr95',
        rule='less'))
