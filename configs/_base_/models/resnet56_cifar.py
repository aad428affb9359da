# CIFAR ResNet-56 of He et al., seed 004 table 1; otherwise as
# resnet20_cifar.py.
_base_ = './resnet20_cifar.py'
model = dict(backbone=dict(depth=56))
