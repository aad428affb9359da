# DA-FB search on MobileNetV2-200 (seed 000 table 5), multi-window DA.
_base_ = ['./da-fb-multi_mobilenet-v2_search_market1501.py']
model = dict(model=dict(backbone=dict(backbone=dict(arch='mobilenetv2-200'))))
