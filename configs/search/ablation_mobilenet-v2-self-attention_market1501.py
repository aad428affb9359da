# Seed 001 table V: MobileNetV2 (Self-Attention), vanilla non-local blocks at
# the DCS positions, without IBB.
_base_ = ['./ablation_dcs-fb_mobilenet-v2_wo-ibb_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='NonLocalAttention'),
            after=['layer2', 'layer3', 'layer5', 'layer7'])
    ]))
