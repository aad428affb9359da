# Seed 001 table V: DCS-FB (MobileNetV2) w/o IBB (CE + triplet only).
_base_ = ['./dcs-fb_mobilenet-v2_market1501.py']
model = dict(
    head=dict(
        _delete_=True, type='ReIDHead', num_classes=751, in_channels=1280))
custom_hooks = []
