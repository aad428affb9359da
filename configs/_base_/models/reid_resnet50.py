# ResNet-50 with last stride 1 + BNNeck + ID (label smoothing 0.1) + triplet.
# The backbone starts from mmpretrain's ImageNet ResNet-50 (as every ResNet-50
# Re-ID row of the seeds); --cfg-options model.backbone.init_cfg=None trains
# from scratch (docs/user_guides/pretrained.md).
model = dict(
    type='ReID',
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),
        out_indices=(3, ),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')),
    neck=dict(type='BNNeck', in_channels=2048),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=2048,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
