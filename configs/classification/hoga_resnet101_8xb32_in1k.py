# resnet101 + AutoLA (HOGA, K = 4, searched genotype) in every bottleneck, at
# its middle width (after bn2; see _base_/models/block_attentions.py) (seed 004
# table 4).
_base_ = ['./resnet101_8xb32_in1k.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.hoga_in_bottlenecks}}))
