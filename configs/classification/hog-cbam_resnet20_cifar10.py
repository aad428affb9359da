# ResNet-20 + HOG_CBAM (K = 4) in every residual block (seed 004 table 6).
_base_ = ['./resnet20_cifar10.py', '../_base_/models/block_attentions.py']
model = dict(backbone=dict(attentions={{_base_.hog_cbam_in_blocks}}))
