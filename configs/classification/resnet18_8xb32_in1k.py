# ResNet-18 on ImageNet (seed 004 table 4), 8 GPUs x 32 images.
_base_ = [
    '../_base_/models/attention_resnet18_in1k.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_step_100e.py',
    '../_base_/default_runtime.py'
]
