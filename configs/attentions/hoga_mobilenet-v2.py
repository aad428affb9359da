# Attention: HOGA (AutoLA, seed 004) with the searched genotype of the paper's
#   figure 3 ('autola', K = 4 groups). For the search form use
#   cfg=dict(type='HOGAttention', search=True) and bind one shared
#   HOGAArchitecture (bind_shared_architecture) to all modules.
# Backbone: MobileNetV2; attention in every InvertedResidual after its last
#   ConvModule, before the shortcut add.
_base_ = '../_base_/models/attention_mobilenet-v2_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
            in_blocks='layer*.*'),
    ]))
