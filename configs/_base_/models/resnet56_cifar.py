# CIFAR ResNet-56 of He et al. (3 stages of basic blocks, 16/32/64 channels,
# parameter-free shortcuts), seed 004 table 1. For CIFAR-100 (seed 004
# table 2) set backbone.base_channels=64, head.in_channels=256 and
# head.num_classes=100.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='CifarResNet', depth=56, base_channels=16, out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
