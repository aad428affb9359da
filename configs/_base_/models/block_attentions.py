# Attention inside every residual block, after its last BN and before the
# shortcut add (seed 004): values for ``model.backbone.attentions`` of an
# AttentionBackbone, used as {{_base_.se_in_blocks}} etc.
se_in_blocks = [
    dict(cfg=dict(type='SEAttention', reduction=16), in_blocks='layer*.*')
]
cbam_in_blocks = [
    dict(cfg=dict(type='CBAMAttention', reduction=16), in_blocks='layer*.*')
]
# AutoLA: HOGA (K = 4) with the searched genotype of seed 004 figure 3.
hoga_in_blocks = [
    dict(cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
         in_blocks='layer*.*')
]
# In bottleneck networks (ResNet-50/101, ResNeXt, the detection and pose
# ResNet-50) HOGA works on the bottleneck's middle width, after bn2 (the 3x3
# conv's BN). Its fusion (two 1x1 convs over C + C/4 -> C -> C channels) costs
# ~2.25 C^2 per block: at the block output (C = 4 x planes) ResNet-50 +
# AutoLA would have 98.1M parameters, at the middle width it has 30.1M,
# which matches seed 004 table 4 (29.39M; ResNet-18 / 34 at the block output
# give 14.2M / 26.4M vs 13.51M / 24.63M, CIFAR ResNet-20 / 56 0.335M /
# 1.05M vs 0.34M / 1.04M).
hoga_in_bottlenecks = [
    dict(cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
         after='layer*.*.bn2')
]
hog_se_in_bottlenecks = [
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), after='layer*.*.bn2')
]
hog_cbam_in_bottlenecks = [
    dict(cfg=dict(type='HOGCBAMAttention', num_groups=4),
         after='layer*.*.bn2')
]
# Seed 004 table 6: K = 4 HOGA whose every edge is SE / CBAM.
hog_se_in_blocks = [
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), in_blocks='layer*.*')
]
hog_cbam_in_blocks = [
    dict(cfg=dict(type='HOGCBAMAttention', num_groups=4),
         in_blocks='layer*.*')
]
