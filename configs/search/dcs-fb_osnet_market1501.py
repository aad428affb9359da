# DCS-FB on OSNet x1.0 (seed 001 table I): DCS after conv2 .. conv5.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(_delete_=True, type='OSNet', arch='x1.0'),
        attentions=[
            dict(cfg=dict(type='DCSAttention'),
                 after=['conv2', 'conv3', 'conv4', 'conv5'])
        ]),
    neck=dict(in_channels=512),
    head=dict(in_channels=512))
