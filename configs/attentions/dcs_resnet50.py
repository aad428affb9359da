# Attention: DCS attention (seed 001), Gumbel channel mask on query/key.
# Backbone: ResNet-50; attention after each of the four stages.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='DCSAttention'),
            after=['layer1', 'layer2', 'layer3', 'layer4']),
    ]))
