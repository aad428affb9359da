# ResNet-32 + CBAM in every residual block (seed 004 table 2).
_base_ = ['./resnet32_cifar100.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.cbam_in_blocks}}))
