# Faster R-CNN + FPN, 1x schedule on COCO (seed 004 table 7, right column),
# ResNet-50 baseline. mmdet's own config is the base: only the backbone
# changes, to mmdet's ResNet-50 wrapped by mmattn's AttentionBackbone. This
# config injects no attention; the -se / -cbam / -hoga configs fill
# ``model.backbone.attentions`` and point ``init_cfg`` at their classifier.
#
# Pretrained weights: the backbone starts from an mmattn ImageNet classifier
# (configs/classification/resnet50_8xb32_in1k.py, trained with tools/train.py
# into work_dirs/). Its checkpoint holds ``backbone.<AttentionBackbone keys>``;
# ``prefix='backbone.'`` keeps exactly those, and mmdet's and mmpretrain's
# ResNet-50 name their parameters alike. Another checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=<path>
# and no pretraining: --cfg-options model.backbone.init_cfg=None
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
# Registers mmattn's models (AttentionBackbone, the attentions) when the
# config is read; default_scope stays mmdet's and mmattn components take the
# 'mmattn.' prefix.
custom_imports = dict(imports=['mmattn.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmattn.AttentionBackbone',
        # mmdet's detection settings for an ImageNet ResNet-50: the stem and
        # stage 1 frozen, BN statistics kept from ImageNet (small batches).
        backbone=dict(
            type='mmdet.ResNet',
            depth=50,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            frozen_stages=1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=True,
            style='pytorch'),
        attentions=[],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/resnet50_8xb32_in1k/epoch_100.pth',
            prefix='backbone.')))
