# Attention: Single-Window DA (seed 000), one searched channel window.
# Backbone: ResNet-50; attention after each of the four stages.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='ChannelWindowAttention'),
            after=['layer1', 'layer2', 'layer3', 'layer4']),
    ]))
