# ResNet-32 + AutoLA_56 (seed 004 table 6): the genotype searched on
# ResNet-56 trained on ResNet-32 (schedule of
# autola_resnet20_retrain-searched_cifar10.py).
_base_ = ['./autola-56_resnet20_retrain-searched_cifar10.py']
model = dict(backbone=dict(backbone=dict(backbone=dict(depth=32))))
