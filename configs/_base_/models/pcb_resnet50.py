# PCB (Sun et al. 2018): ResNet-50 with last stride 1 (a 384x128 input gives a
# 24x8 map), 6 horizontal stripes average-pooled, a shared 1x1 conv to 256 +
# BN + ReLU, one classifier (cross entropy) per stripe; the test feature is
# the 6 reduced features concatenated and L2-normalised. The papers start
# from ImageNet weights: set backbone.init_cfg=dict(type='Pretrained',
# checkpoint=<mmpretrain ResNet-50 checkpoint>, prefix='backbone.').
model = dict(
    type='PCBReID',
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),
        out_indices=(3, ),
        init_cfg=None),
    neck=dict(type='PartPooling', num_parts=6),
    head=dict(
        type='PCBHead',
        num_classes=751,
        in_channels=2048,
        num_parts=6,
        reduced_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
