# DCS-FB on MobileNetV2-200 (seed 001 table I); schedule of
# dcs-fb_mobilenet-v2_market1501.py.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(backbone=dict(backbone=dict(arch='mobilenetv2-200')))
