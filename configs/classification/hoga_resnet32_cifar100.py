# ResNet-32 + AutoLA (HOGA, K = 4, searched genotype) in every residual block
# (seed 004 table 2).
_base_ = ['./resnet32_cifar100.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.hoga_in_blocks}}))
