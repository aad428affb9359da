# ResNet-56 on CIFAR-10 (seed 004 table 1); otherwise as
# resnet20_cifar10.py.
_base_ = ['./resnet20_cifar10.py']
model = dict(backbone=dict(backbone=dict(depth=56)))
