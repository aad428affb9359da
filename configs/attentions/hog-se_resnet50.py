# Attention: HOG_SE (seed 004 table 6), a K = 4 HOGA whose every edge is SE.
# Backbone: ResNet-50; attention in every Bottleneck after norm3, before the
#   shortcut add.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(backbone=dict(attentions=[
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), in_blocks='layer*.*'),
]))
