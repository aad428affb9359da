# SSD300 on COCO (seed 004 table 7, left column), ResNet-50 baseline.
# mmdet's SSD300 config is the base. mmdet's SSD300 uses VGG-16, the seed a
# ResNet-50; the backbone here is mmdet's ResNet-50 wrapped by mmattn's
# AttentionBackbone (the -se / -cbam / -hoga configs fill
# ``model.backbone.attentions``), arranged to stand where VGG stood:
# * stages 2 and 3 (512 channels at stride 8, 1024 at stride 16: 38x38 and
#   19x19 maps for a 300x300 input) feed the neck, exactly the channels and
#   strides of VGG's conv4_3 / fc7, so mmdet's SSDNeck extra layers, anchor
#   strides and SSDHead stay as they are;
# * stage 4 is dropped (num_stages=3): SSD would not use it, and unused
#   parameters break distributed training;
# * no L2Norm on the first map: it rescales VGG's un-normalised conv4_3,
#   ResNet's outputs are batch-normalised already;
# * inputs are normalised like the ImageNet classifier the backbone comes
#   from (mmpretrain's mean and std), not VGG-caffe's std of 1.
# Pretrained weights, as in faster-rcnn_r50_fpn_1x_coco.py: an mmattn
# ImageNet classifier (configs/classification/resnet50_8xb32_in1k.py); its
# stage-4 weights are left unused (reported as unexpected keys).
_base_ = 'mmdet::ssd/ssd300_coco.py'
custom_imports = dict(imports=['mmattn.models'], allow_failed_imports=False)

model = dict(
    data_preprocessor=dict(std=[58.395, 57.12, 57.375]),
    backbone=dict(
        _delete_=True,
        type='mmattn.AttentionBackbone',
        backbone=dict(
            type='mmdet.ResNet',
            depth=50,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(1, 2),
            frozen_stages=1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=True,
            style='pytorch'),
        attentions=[],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/resnet50_8xb32_in1k/epoch_100.pth',
            prefix='backbone.')),
    neck=dict(in_channels=(512, 1024), l2_norm_scale=None))
