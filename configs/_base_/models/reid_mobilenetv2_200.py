# MobileNetV2-200 (seed 000 table 5: 1, 3, 21, 19, 18, 3, 1 bottlenecks),
# last stride 1, + BNNeck + ID (label smoothing 0.1) + triplet (0.3).
# Attention positions as on MobileNetV2: after layer2, layer3, layer5, layer7
# (24, 32, 96, 320 channels).
model = dict(
    type='ReID',
    backbone=dict(
        type='MobileNetV2ReID',
        arch='mobilenetv2-200',
        widen_factor=1.0,
        last_stride=1),
    neck=dict(type='BNNeck', in_channels=1280),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=1280,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
