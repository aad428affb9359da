# Attention: Squeeze-and-Excitation (baseline of seed 004).
# Backbone: MobileNetV2; attention in every InvertedResidual after its last
#   ConvModule, before the shortcut add.
# A model snippet: inherit it (``_base_``) in a config that adds data and a
# schedule.
default_scope = 'mmattn'

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(type='MobileNetV2', widen_factor=1.0, out_indices=(7, )),
        attentions=[
            dict(
                cfg=dict(type='SEAttention', reduction=16),
                in_blocks='layer*.*'),
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
