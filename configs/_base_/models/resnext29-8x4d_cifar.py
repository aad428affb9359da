# CIFAR ResNeXt-29 (8x4d): 3 stages of 3 grouped bottlenecks, 256/512/1024
# output channels; 1.71M parameters with this head (seed 004 table 3).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='CifarResNeXt',
        depth=29,
        groups=8,
        width_per_group=4,
        out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
