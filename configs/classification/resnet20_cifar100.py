# ResNet-20 on CIFAR-100 (seed 004 table 2): base width 64 (seed 004
# section 4.2: "when testing on CIFAR100 ... the base number of channels is
# set to 64").
_base_ = [
    '../_base_/models/attention_resnet20_cifar.py',
    '../_base_/datasets/cifar100_bs256.py',
    '../_base_/schedules/cifar_sgd_cosine_500e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(backbone=dict(base_channels=64)),
    head=dict(num_classes=100, in_channels=256))
