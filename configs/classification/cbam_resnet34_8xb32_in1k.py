# resnet34 + CBAM in every residual block (seed 004
# table 4).
_base_ = ['./resnet34_8xb32_in1k.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.cbam_in_blocks}}))
