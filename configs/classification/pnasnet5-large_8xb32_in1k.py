# PNASNet-5-Large (Liu et al., "Progressive Neural Architecture Search") on
# ImageNet, the PNAS backbone of seed 004 table 3, from timm (`pnasnet5large`,
# timm==1.0.31, see requirements/optional.txt) through mmpretrain's
# TIMMBackbone, wrapped by AttentionBackbone so that the -se / -cbam /
# -autola configs inject their attention by module path. No weights are
# downloaded (pretrained=False).
# Seed 004 table 3 reports PNAS on CIFAR-10 (0.72M parameters, 0.08 GFLOPs);
# timm ships only this ImageNet PNASNet-5 (81.7M without the classifier,
# 86.1M with it), so these configs are the same comparison on the ImageNet
# network: expect the attention overheads, not the paper's absolute sizes
# (docs/user_guides/comparisons.md).
# Input 331 x 331 (PNASNet-5-Large's own resolution); Inception
# normalisation (mean = std = 127.5) and crop ratio 0.911 as timm's
# pretrained configuration; schedule: the library's ImageNet SGD 100 epochs
# (seed 004's ImageNet recipe), 8 GPUs x 32 images.
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_step_100e.py',
    '../_base_/default_runtime.py'
]
input_size = 331
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(
            type='mmpretrain.TIMMBackbone',
            model_name='pnasnet5large',
            pretrained=False),
        attentions=[],
        # The dry forward that finds the channels at the attention
        # positions; PNAS pads 'same', so a small input is enough.
        dummy_input_shape=(1, 3, 64, 64)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=4320,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
data_preprocessor = dict(
    num_classes=1000,
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=363, edge='short'),  # 331 / 0.911
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
