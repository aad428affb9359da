# DCS-DNAS search on the FBNetV2 supernet (seed 001 section 4.2; its numbers
# were lost in extraction, the values below are those of the same group's
# DA-DNAS protocol, seed 000 appendix B.6.2): 384x128, batch 64, 300 epochs;
# each epoch the supernet weights train on 80% of the samples (SGD, lr 0.035,
# /10 at epochs 150 and 240), the Gumbel logits and the DCS masks on the
# other 20% (Adam, lr 0.03, cosine). Search loss alpha * L * log(cost)^beta
# (alpha 0.2, beta 0.5) on the expected FLOPs; Gumbel tau0 = 5 x exp(-0.045)
# per epoch; loss CE + triplet + 0.1 * IBB (IB term off for the first 30% of
# the epochs). DCS after each of the four stages.
_base_ = ['./_base_/reid_search_runtime.py']
input_size = (384, 128)

supernet_arch = 'base'
backbone = dict(
    type='AttentionBackbone',
    backbone=dict(
        type='FBNetV2Supernet',
        arch=supernet_arch,
        flops_input_size=input_size),
    attentions=[
        dict(
            cfg=dict(type='DCSAttention'),
            after=['stage1', 'stage2', 'stage3', 'stage4'])
    ],
    dummy_input_shape=(1, 3, 64, 32))
reid_model = dict(
    type='ReID',
    backbone=backbone,
    neck=dict(type='BNNeck', in_channels=1984),
    head=dict(
        type='ReIDHeadWithIB',
        num_classes=751,
        in_channels=1984,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0),
        loss_ib=dict(type='IBBoundLoss', loss_weight=0.1)))
model = dict(
    type='BilevelSearchModel',
    model=reid_model,
    cost_loss=dict(type='DNASCostLoss', alpha=0.2, beta=0.5))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_size[::-1]),
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        optimizer=dict(type='SGD', lr=0.035, momentum=0.9, weight_decay=5e-4),
        paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0)),
    architecture=dict(optimizer=dict(type='Adam', lr=0.03)))
param_scheduler = dict(
    weights=[
        dict(
            type='MultiStepLR',
            by_epoch=True,
            milestones=[150, 240],
            gamma=0.1)
    ],
    architecture=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=True,
            T_max=300,
            convert_to_iter_based=True)
    ])
custom_hooks = [
    dict(
        type='GumbelTemperatureHook',
        tau0=5.0,
        decay=0.045,
        attributes=['gumbel_tau']),
    dict(type='IBVariationalHook', warmup_ratio=0.3),
    dict(type='ArchitectureLoggerHook'),
    dict(type='ExportArchitectureHook', out_file='architecture.json'),
]
