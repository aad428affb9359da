# Attention: Squeeze-and-Excitation (baseline of seed 004).
# Backbone: MobileNetV2; attention in every InvertedResidual after its last
#   ConvModule, before the shortcut add.
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(cfg=dict(type='SEAttention', reduction=16), in_blocks='layer*.*'),
    ]))
