# DCS-FB on MobileNetV2 (seed 001): DCS attention after the 24-, 32-, 96- and
# 320-channel stages (layer2, layer3, layer5, layer7), BNNeck, ID + triplet.
_base_ = './reid_mobilenetv2.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone=dict(type='MobileNetV2ReID', widen_factor=1.0, last_stride=1),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention'),
                after=['layer2', 'layer3', 'layer5', 'layer7']),
        ]))
