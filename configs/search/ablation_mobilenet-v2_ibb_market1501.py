# Seed 001 table VI: MobileNetV2 (no attention) trained with IBB.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2ReID',
        arch='mobilenetv2',
        last_stride=1,
        init_cfg={{_base_.model.backbone.backbone.init_cfg}}))
