# OSNet x1.0 (with its FC-512 embedding, 2.2M parameters) + BNNeck + ID
# (label smoothing 0.1) + triplet (0.3). Attention after each stage:
#   after=['conv2', 'conv3', 'conv4', 'conv5'].
model = dict(
    type='ReID',
    backbone=dict(type='OSNet', arch='x1.0', with_fc=True),
    neck=dict(type='BNNeck', in_channels=512),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=512,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
