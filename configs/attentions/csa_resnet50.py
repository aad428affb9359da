# Attention: Compressed Self-Attention (seed 002), D = 32 base maps per
#   group, G = 2 groups, alpha initialised to 0 (identity at start).
# Backbone: ResNet-50; attention between stages 1-2, 2-3 and 3-4 (after
#   layer1, layer2, layer3; N = 3 as in seed 002's PCB models).
# The deep-supervision branches of seed 002 eq. 8 (one
#   CSADeepSupervisionHead per CSA module) are not part of this snippet.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=2),
            after=['layer1', 'layer2', 'layer3']),
    ]))
