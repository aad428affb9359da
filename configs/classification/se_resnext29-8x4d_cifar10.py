# ResNeXt-29 (8x4d) + SE in every bottleneck (seed 004 table 3).
_base_ = [
    './resnext29-8x4d_cifar10.py', '../_base_/models/block_attentions.py'
]
model = dict(backbone=dict(attentions={{_base_.se_in_blocks}}))
