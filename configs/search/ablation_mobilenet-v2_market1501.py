# Seed 001 tables V and VI: MobileNetV2, the vanilla model (no attention, no
# IBB) on the DCS-FB (MobileNetV2) recipe.
_base_ = ['./ablation_dcs-fb_mobilenet-v2_wo-ibb_market1501.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2ReID',
        arch='mobilenetv2',
        last_stride=1,
        init_cfg={{_base_.model.backbone.backbone.init_cfg}}))
