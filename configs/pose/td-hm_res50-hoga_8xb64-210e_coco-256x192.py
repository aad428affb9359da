# SimpleBaseline on COCO keypoints (seed 004 table 8): ResNet-50 with
# HOGA with the AutoLA genotype (seed 004 figure 3) in every Bottleneck,
# as in configs/classification/hoga_resnet50_8xb32_in1k.py,
# whose ImageNet checkpoint initialises the backbone.
_base_ = [
    './td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/models/block_attentions.py'
]
model = dict(
    backbone=dict(
        attentions={{_base_.hoga_in_bottlenecks}},
        init_cfg=dict(
            checkpoint='work_dirs/hoga_resnet50_8xb32_in1k/epoch_100.pth')))
