# SimpleBaseline on COCO keypoints (seed 004 table 8): ResNet-50 with
# CBAM (channel then spatial attention, reduction 16) in every
# Bottleneck, as in configs/classification/cbam_resnet50_8xb32_in1k.py,
# whose ImageNet checkpoint initialises the backbone.
_base_ = [
    './td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/models/block_attentions.py'
]
model = dict(
    backbone=dict(
        attentions={{_base_.cbam_in_blocks}},
        init_cfg=dict(
            checkpoint='work_dirs/cbam_resnet50_8xb32_in1k/epoch_100.pth')))
