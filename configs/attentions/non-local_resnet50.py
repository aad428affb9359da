# Attention: vanilla self-attention (embedded-Gaussian non-local block),
#   the SA baseline of seeds 000-002.
# Backbone: ResNet-50; attention after each of the four stages.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='NonLocalAttention'),
            after=['layer1', 'layer2', 'layer3', 'layer4']),
    ]))
