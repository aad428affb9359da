# ImageNet classifier: MobileNetV2 wrapped by AttentionBackbone; the configs in
# configs/attentions/ fill ``model.backbone.attentions``. No default_scope
# here, so that it composes with default_runtime.py.

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(type='MobileNetV2', widen_factor=1.0, out_indices=(7, )),
        attentions=[]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
