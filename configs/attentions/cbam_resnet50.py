# Attention: CBAM (baseline of seed 004).
# Backbone: ResNet-50; attention in every Bottleneck after norm3, before the
#   shortcut add.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CBAMAttention', reduction=16, kernel_size=7),
            in_blocks='layer*.*'),
    ]))
