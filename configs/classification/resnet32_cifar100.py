# ResNet-32 on CIFAR-100 (seed 004 table 2); otherwise as
# resnet20_cifar100.py.
_base_ = ['./resnet20_cifar100.py']
model = dict(backbone=dict(backbone=dict(depth=32)))
