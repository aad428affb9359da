# SimpleBaseline (ResNet-50 + three deconvolutions, heatmap head) on COCO
# keypoints, top-down, 256x192 input, 210 epochs (seed 004 table 8, the
# ResNet50 row). mmpose's own config is the base: only the backbone changes,
# to mmpose's ResNet-50 wrapped by mmattn's AttentionBackbone. This config
# injects no attention; the -se / -cbam / -hoga configs fill
# ``model.backbone.attentions`` and point ``init_cfg`` at their classifier.
#
# Evaluation follows mmpose's protocol: person boxes from a detector
# (``val_dataloader.dataset.bbox_file``) and OKS AP from CocoMetric. With
# ground-truth boxes instead:
#   --cfg-options val_dataloader.dataset.bbox_file=None
#
# Pretrained weights: the backbone starts from an mmattn ImageNet classifier
# (configs/classification/resnet50_8xb32_in1k.py, trained with tools/train.py
# into work_dirs/). Its checkpoint holds ``backbone.<AttentionBackbone keys>``;
# ``prefix='backbone.'`` keeps exactly those, and mmpose's and mmpretrain's
# ResNet-50 name their parameters alike. Another checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=<path>
# and no pretraining: --cfg-options model.backbone.init_cfg=None
_base_ = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_res50_8xb64-210e_coco-256x192.py')
# Registers mmattn's models (AttentionBackbone, the attentions) when the
# config is read; default_scope stays mmpose's, so 'mmattn.' is explicit.
custom_imports = dict(imports=['mmattn.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmattn.AttentionBackbone',
        backbone=dict(type='mmpose.ResNet', depth=50),
        attentions=[],
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/resnet50_8xb32_in1k/epoch_100.pth',
            prefix='backbone.')))
