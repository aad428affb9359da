# ResNeXt-29 (8x4d) + AutoLA (HOGA, K = 4, searched genotype) in every
# bottleneck, at its middle width (after bn2; see
# _base_/models/block_attentions.py) (seed 004 table 3).
_base_ = [
    './resnext29-8x4d_cifar10.py', '../_base_/models/block_attentions.py'
]
model = dict(backbone=dict(attentions={{_base_.hoga_in_bottlenecks}}))
