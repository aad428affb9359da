# ResNet20_Wide + SE (seed 004 table 6): the backbone widened to
# match AutoLA's parameters. The width is not stated; base width 18 (vs 16)
# gives the table's parameter ratio (x1.24 over ResNet20 + SE).
_base_ = ['./se_resnet20_cifar10.py']
model = dict(
    backbone=dict(backbone=dict(base_channels=18)), head=dict(in_channels=72))
