# ResNet-20 on CIFAR-10 (seed 004 table 1), 500 epochs from scratch.
_base_ = [
    '../_base_/models/attention_resnet20_cifar.py',
    '../_base_/datasets/cifar10_bs256.py',
    '../_base_/schedules/cifar_sgd_cosine_500e.py',
    '../_base_/default_runtime.py'
]
