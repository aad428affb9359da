# SSD300 on COCO (seed 004 table 7): ResNet-50 (stages 1-3, see
# ssd300_r50_coco.py) with CBAM (seed 004 baseline) in every Bottleneck, as
# in configs/classification/cbam_resnet50_8xb32_in1k.py, whose ImageNet
# checkpoint initialises the backbone.
_base_ = ['./ssd300_r50_coco.py', '../_base_/models/block_attentions.py']
model = dict(
    backbone=dict(
        attentions={{_base_.cbam_in_blocks}},
        init_cfg=dict(
            checkpoint='work_dirs/cbam_resnet50_8xb32_in1k/epoch_100.pth')))
