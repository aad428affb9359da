# DCS-FB on ResNet-50 (last stride 1), DCS after each of the four stages.
# Mask generator: the rank-48 factorised linear layer (48 * 2C weights per
# module): seed 001 table I has 23.9 M backbone parameters, ResNet-50's 23.5 M
# + 0.4 M; rank 48 gives 23.92 M (+0.41 M), the full C x C Linear 29.1 M
# (+5.6 M, 4.2 M of it at the 2048-channel stage; set
# mask_hidden_channels=None for it).
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='ResNet',
            depth=50,
            strides=(1, 2, 2, 1),
            out_indices=(3, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/'
                'mmclassification/v0/resnet/resnet50_8xb32_in1k_'
                '20210831-ea4938fc.pth',
                prefix='backbone.')),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention', mask_hidden_channels=48),
                after=['layer1', 'layer2', 'layer3', 'layer4'])
        ]),
    neck=dict(in_channels=2048),
    head=dict(in_channels=2048))
