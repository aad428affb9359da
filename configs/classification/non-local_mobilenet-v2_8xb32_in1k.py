# MobileNetV2 + SA (vanilla self-attention, embedded-Gaussian non-local
# block) after the 24-, 32-, 96- and 320-channel stages as in Re-ID (seed 000
# table 4, "MobileNetV2+SA").
_base_ = ['./mobilenet-v2_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='NonLocalAttention'),
            after=['layer2', 'layer3', 'layer5', 'layer7']),
    ]))
