# DCS-FB on OSNet x1.0 (seed 001 table I): DCS after conv2 .. conv5.
# OSNet x1.0 with its FC-512 embedding (2.2 M, as configs/_base_/models/
# reid_osnet.py); mask generator: the rank-48 factorised linear layer. Table I:
# 2.33 M (OSNet's 2.2 M + 0.13 M); rank 48 gives 2.35 M (+0.18 M), the full
# C x C Linear 2.93 M (set mask_hidden_channels=None for it).
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(_delete_=True, type='OSNet', arch='x1.0', with_fc=True),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention', mask_hidden_channels=48),
                after=['conv2', 'conv3', 'conv4', 'conv5'])
        ]),
    neck=dict(in_channels=512),
    head=dict(in_channels=512))
