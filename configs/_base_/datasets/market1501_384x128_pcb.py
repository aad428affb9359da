# Market-1501 as PCB trains it (Sun et al. 2018, seed 002): 384x128 input,
# random horizontal flip only, batches of 64 drawn at random (PCB has no
# triplet loss, so no PK sampling).
_base_ = ['./market1501.py']
input_size = (384, 128)  # (h, w)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),  # mmcv scale is (w, h)
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
    dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query']),
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
