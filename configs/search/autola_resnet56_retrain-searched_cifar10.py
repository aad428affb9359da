# The genotype searched on ResNet-20 transferred to ResNet-56 (seed 004
# section 4.3); schedule as autola_resnet20_retrain-searched_cifar10.py.
_base_ = ['./autola_resnet20_retrain-searched_cifar10.py']
model = dict(backbone=dict(backbone=dict(backbone=dict(depth=56))))
