# MobileNetV2 (width 1.0, last stride 1: 0.36 GFLOPs at 256x128, as seed 001
# table I) + BNNeck + ID (label smoothing 0.1) + triplet (0.3).
model = dict(
    type='ReID',
    backbone=dict(type='MobileNetV2ReID', widen_factor=1.0, last_stride=1),
    neck=dict(type='BNNeck', in_channels=1280),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=1280,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
