# Attention: Multi-Window DA (seed 000), ceil(C / 8) searched windows.
# Backbone: ResNet-50; attention after each of the four stages.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='MultiWindowAttention', window_length=8),
            after=['layer1', 'layer2', 'layer3', 'layer4']),
    ]))
