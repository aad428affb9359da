# DCS-FB on MobileNetV2-200 (seed 001 table I); schedule of
# dcs-fb_mobilenet-v2_market1501.py.
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
# No public ImageNet MobileNetV2-200 exists (the seeds pre-train their own):
# from scratch, table I's "trained from scratch" row.
model = dict(
    backbone=dict(backbone=dict(arch='mobilenetv2-200', init_cfg=None)))
