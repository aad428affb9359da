# HRNet-W32 with its four resolutions fused (upsample + concat + 1x1 conv to
# 2048 channels at 1/4 resolution) + BNNeck + ID (label smoothing 0.1) +
# triplet (0.3). Attention "after each stage":
#   after=['layer1', 'stage2_taps.*', 'stage3_taps.*', 'stage4_taps.*'].
model = dict(
    type='ReID',
    backbone=dict(
        type='HRNetReID',
        arch='w32',
        fusion='concat',
        out_channels=2048,
        # mmpretrain's ImageNet HRNet-W32; the fusion starts from scratch.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'hrnet/hrnet-w32_3rdparty_8xb32_in1k_20220120-c394f1ab.pth',
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
