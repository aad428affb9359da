# Attention: DCS attention (seed 001), Gumbel channel mask on query/key.
# Backbone: MobileNetV2; attention after the 24-, 32-, 96- and 320-channel
#   stages (layer2, layer3, layer5, layer7; seed 000 table 5).
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='DCSAttention'),
            after=['layer2', 'layer3', 'layer5', 'layer7']),
    ]))
