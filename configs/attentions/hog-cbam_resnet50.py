# Attention: HOG_CBAM (seed 004 table 6), a K = 4 HOGA whose every edge is
#   CBAM.
# Backbone: ResNet-50; attention in every Bottleneck at its middle width,
#   after bn2 (the 3x3 conv's BN): at the block output the fusion's 1x1
#   convs would triple ResNet-50's parameters (see
#   _base_/models/block_attentions.py).
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='HOGCBAMAttention', num_groups=4),
            after='layer*.*.bn2'),
    ]))
