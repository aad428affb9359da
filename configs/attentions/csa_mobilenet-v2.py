# Attention: Compressed Self-Attention (seed 002), D = 32 base maps per
#   group, G = 2 groups, alpha initialised to 0 (identity at start).
# Backbone: MobileNetV2; attention after the 24-, 32-, 96- and 320-channel
#   stages (layer2, layer3, layer5, layer7), the stage positions the seeds
#   use for MobileNetV2 (seed 000 table 5); seed 002 itself only uses
#   ResNet-50 and L2Net.
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=2),
            after=['layer2', 'layer3', 'layer5', 'layer7']),
    ]))
