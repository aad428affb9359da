# WResNet18 (Zagoruyko & Komodakis) on ImageNet (seed 004 table 4).
# mmpretrain's wide ResNets are bottleneck ones (WRN-50-2, ResNet with
# base_channels x2); for the basic-block ResNet-18 the table's 26.85M
# parameters (ResNet-18: 11.69M) match a 1.5x width: base_channels 96 gives
# 25.9M. The stem stays at 64 channels.
_base_ = ['./resnet18_8xb32_in1k.py']
model = dict(
    backbone=dict(backbone=dict(base_channels=96)), head=dict(in_channels=768))
