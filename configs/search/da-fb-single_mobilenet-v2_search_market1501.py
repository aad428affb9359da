# DA-FB search, Single-Window DA on MobileNetV2 (seed 000, appendix B.6.1):
# 256x128, batch 64, 300 epochs; each epoch the weights train on 80% of the
# training samples (momentum SGD, lr 0.035, /10 at epochs 150 and 240) and
# the window parameters on the other 20% (momentum SGD, lr 0.3, cosine).
# DA after the 24-, 32-, 96- and 320-channel stages (table 5), last stride 1
# like configs/reid (seed 000's FLOPs, 0.382 G at 256x128, are stride 1's).
_base_ = ['./_base_/reid_search_runtime.py']

da_cfg = dict(type='ChannelWindowAttention')
backbone = dict(
    type='AttentionBackbone',
    backbone=dict(
        type='MobileNetV2ReID',
        arch='mobilenetv2',
        widen_factor=1.0,
        last_stride=1),
    attentions=[
        dict(cfg=da_cfg, after=['layer2', 'layer3', 'layer5', 'layer7'])
    ])
reid_model = dict(
    type='ReID',
    backbone=backbone,
    neck=dict(type='BNNeck', in_channels=1280),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=1280,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)))
model = dict(type='BilevelSearchModel', model=reid_model)

optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        optimizer=dict(type='SGD', lr=0.035, momentum=0.9, weight_decay=5e-4),
        paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0)),
    # No weight decay: it would pull every window towards s = l = integer.
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.3, momentum=0.9, weight_decay=0.)))
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
