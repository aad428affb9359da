# Attention: HOG_SE (seed 004 table 6), a K = 4 HOGA whose every edge is SE.
# Backbone: MobileNetV2; attention in every InvertedResidual after its last
#   ConvModule, before the shortcut add.
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='HOGSEAttention', num_groups=4),
            in_blocks='layer*.*'),
    ]))
