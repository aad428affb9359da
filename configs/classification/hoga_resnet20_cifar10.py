# ResNet-20 + AutoLA (HOGA, K = 4, searched genotype) in every residual block
# (seed 004 table 1).
_base_ = ['./resnet20_cifar10.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.hoga_in_blocks}}))
