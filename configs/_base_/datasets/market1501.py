# Market-1501, 256x128, PK sampling 16 identities x 4 images (METHODS.md s.8).
dataset_type = 'Market1501'
data_root = 'data/market1501'
input_size = (256, 128)  # (h, w)

data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),  # mmcv scale is (w, h)
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', crop_size=input_size, padding=10),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        mode='const',
        fill_color=(124, 116, 104),
        min_area_ratio=0.02,
        max_area_ratio=0.4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
    dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query']),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='PKSampler', num_instances=4, batch_size=64),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
)
val_evaluator = dict(type='ReIDMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
