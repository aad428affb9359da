# DCS-FB on ResNet-50 (last stride 1), DCS after each of the four stages.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(_delete_=True, type='ResNet', depth=50,
                      strides=(1, 2, 2, 1), out_indices=(3, ),
                      init_cfg=dict(
                          type='Pretrained',
                          checkpoint='https://download.openmmlab.com/'
                          'mmclassification/v0/resnet/resnet50_8xb32_in1k_'
                          '20210831-ea4938fc.pth',
                          prefix='backbone.')),
        attentions=[
            dict(cfg=dict(type='DCSAttention'),
                 after=['layer1', 'layer2', 'layer3', 'layer4'])
        ]),
    neck=dict(in_channels=2048),
    head=dict(in_channels=2048))
