# DCS-FB on HRNet-W32 (seed 001 table I): DCS after stage 1 and after every
# branch of stages 2-4 (HRNetReID's taps), the branches fused to 2048 channels.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='HRNetReID',
            arch='w32',
            out_channels=2048,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/'
                'mmclassification/v0/hrnet/hrnet-w32_3rdparty_'
                '8xb32_in1k_20220120-c394f1ab.pth',
                prefix='backbone.')),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention'),
                after=[
                    'layer1', 'stage2_taps.*', 'stage3_taps.*', 'stage4_taps.*'
                ])
        ]),
    neck=dict(in_channels=2048),
    head=dict(in_channels=2048))
