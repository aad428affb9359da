# MobileNetV2 (width 1.0) on ImageNet (seed 000 table 4), 8 GPUs x 32.
_base_ = [
    '../_base_/models/attention_resnet18_in1k.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_mobilenet_300e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        backbone=dict(
            _delete_=True,
            type='MobileNetV2',
            widen_factor=1.0,
            out_indices=(7, ))),
    head=dict(in_channels=1280))
