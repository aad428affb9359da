# ResNet-50 with last stride 1 + BNNeck + ID (label smoothing 0.1) + triplet.
model = dict(
    type='ReID',
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),
        out_indices=(3, ),
        init_cfg=None),
    neck=dict(type='BNNeck', in_channels=2048),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=2048,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
