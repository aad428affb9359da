# Attention: HOGA (AutoLA, seed 004) with the searched genotype of the paper's
#   figure 3 ('autola', K = 4 groups). For the search form use
#   cfg=dict(type='HOGAttention', search=True) and bind one shared
#   HOGAArchitecture (bind_shared_architecture) to all modules.
# Backbone: ResNet-50; attention in every Bottleneck at its middle width,
#   after bn2 (the 3x3 conv's BN): at the block output the fusion's 1x1
#   convs would triple ResNet-50's parameters (see
#   _base_/models/block_attentions.py).
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
            after='layer*.*.bn2'),
    ]))
