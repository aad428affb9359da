# Attention: CBAM (baseline of seed 004).
# Backbone: MobileNetV2; attention in every InvertedResidual after its last
#   ConvModule, before the shortcut add.
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CBAMAttention', reduction=16, kernel_size=7),
            in_blocks='layer*.*'),
    ]))
