# Attention: vanilla self-attention (embedded-Gaussian non-local block),
#   the SA baseline of seeds 000-002.
# Backbone: MobileNetV2; attention after the 24-, 32-, 96- and 320-channel
#   stages (layer2, layer3, layer5, layer7; seed 000 table 5).
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
                cfg=dict(type='NonLocalAttention'),
                after=['layer2', 'layer3', 'layer5', 'layer7']),
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
