# Seed 001 table VI: MobileNetV2 (Self-Attention) trained with IBB.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='NonLocalAttention'),
            after=['layer2', 'layer3', 'layer5', 'layer7'])
    ]))
