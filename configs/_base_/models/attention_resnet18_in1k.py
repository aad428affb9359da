# ImageNet ResNet-18 wrapped by AttentionBackbone (no default_scope, so it
# composes with default_runtime.py); the classification configs set the
# depth / width and fill ``model.backbone.attentions``.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        attentions=[]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        in_channels=512,
        num_classes=1000,
        topk=(1, 5),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
