# Retraining of the multi-window DA-FB MobileNetV2-200.
_base_ = ['./da-fb-multi_mobilenet-v2_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file=('work_dirs/da-fb-multi_mobilenet-v2-200_search_market1501/'
                   'architecture.json'),
        backbone=dict(backbone=dict(arch='mobilenetv2-200'))))
