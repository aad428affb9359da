# Attention: Squeeze-and-Excitation (baseline of seed 004).
# Backbone: ResNet-50; attention in every Bottleneck after norm3, before the
#   shortcut add.
# A model snippet: inherit it (``_base_``) in a config that adds data and a
# schedule.
default_scope = 'mmattn'

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(
            type='ResNet',
            depth=50,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch'),
        attentions=[
            dict(
                cfg=dict(type='SEAttention', reduction=16),
                in_blocks='layer*.*'),
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
