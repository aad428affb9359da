# ResNet-101 on ImageNet (seed 004 table 4).
_base_ = ['./resnet50_8xb32_in1k.py']
model = dict(backbone=dict(backbone=dict(depth=101)))
