# Attention: Multi-Window DA (seed 000), ceil(C / 8) searched windows.
# Backbone: ResNet-50; attention after each of the four stages.
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
                cfg=dict(type='MultiWindowAttention', window_length=8),
                after=['layer1', 'layer2', 'layer3', 'layer4']),
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
