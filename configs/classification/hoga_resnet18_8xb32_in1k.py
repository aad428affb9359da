# resnet18 + AutoLA (HOGA, K = 4, searched genotype) in every residual block
# (seed 004 table 4).
_base_ = ['./resnet18_8xb32_in1k.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.hoga_in_blocks_in1k}}))
