# PCB (Sun et al. 2018): ResNet-50 with last stride 1 (a 384x128 input gives a
# 24x8 map), 6 horizontal stripes average-pooled, a shared 1x1 conv to 256 +
# BN + ReLU, one classifier (cross entropy) per stripe; the test feature is
# the 6 reduced features concatenated and L2-normalised. The backbone is the
# Re-ID ResNet-50 (last stride 1) of reid_resnet50.py, from mmpretrain's
# ImageNet weights as in the papers.
_base_ = './reid_resnet50.py'
model = dict(
    type='PCBReID',
    neck=dict(_delete_=True, type='PartPooling', num_parts=6),
    head=dict(
        _delete_=True,
        type='PCBHead',
        num_classes=751,
        in_channels=2048,
        num_parts=6,
        reduced_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
