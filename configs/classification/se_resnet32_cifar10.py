# ResNet-32 + SE in every residual block (seed 004 table 1).
_base_ = ['./resnet32_cifar10.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.se_in_blocks}}))
