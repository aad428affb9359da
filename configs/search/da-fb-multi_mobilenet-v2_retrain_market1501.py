# Retraining of the Multi-Window DA-FB MobileNetV2 (schedule of
# da-fb-single_mobilenet-v2_retrain_market1501.py).
_base_ = ['./da-fb-single_mobilenet-v2_retrain_market1501.py']
arch_file = ('work_dirs/da-fb-multi_mobilenet-v2_search_market1501/'
             'architecture.json')
model = dict(
    backbone=dict(
        arch_file=arch_file,
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='MultiWindowAttention', window_length=8),
                after=['layer2', 'layer3', 'layer5', 'layer7'])
        ])))
