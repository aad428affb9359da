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
# The paper does not give the reduction r of the fusion's two SEs; each table
# fits the r of its own SE baseline: on CIFAR-10 (table 2) SE adds 0.02 /
# 0.03 / 0.05M to ResNet-20 / 32 / 56, i.e. r = 2 (3 / 5 / 9 blocks x
# 2 x (16^2 + 32^2 + 64^2) / 2 = 16k / 27k / 48k), and HOGA with r = 2 gives
# 0.335M / 1.048M (paper 0.34M / 1.04M); on ImageNet (table 4) and for the
# ResNeXt of table 3 SE is the usual r = 16, and HOGA with r = 16 gives
# ResNet-18 / 34 / WResNet-18 / 50 / 101 13.58 / 25.21 / 30.10 / 28.97 /
# 51.01M (paper 13.51 / 24.63 / 29.76 / 29.39 / 51.81M; r = 2: 14.23 / 26.38
# / 31.56 / 30.14 / 53.22M). See docs/user_guides/paper_tables.md.
hoga_in_blocks = [
    dict(
        cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
        in_blocks='layer*.*')
]
hoga_in_blocks_in1k = [
    dict(
        cfg=dict(
            type='HOGAttention',
            num_groups=4,
            genotype='autola',
            fusion_reduction=16),
        in_blocks='layer*.*')
]
# In bottleneck networks (ResNet-50/101, ResNeXt, the detection and pose
# ResNet-50) HOGA works on the bottleneck's middle width, after bn2 (the 3x3
# conv's BN). Its fusion (two 1x1 convs over C + C/4 -> C -> C channels) costs
# ~2.25 C^2 per block: at the block output (C = 4 x planes) ResNet-50 +
# AutoLA would have 97M parameters, at the middle width it has 28.97M (fusion
# SE r = 16, see above), which matches seed 004 table 4 (29.39M).
hoga_in_bottlenecks = [
    dict(
        cfg=dict(
            type='HOGAttention',
            num_groups=4,
            genotype='autola',
            fusion_reduction=16),
        after='layer*.*.bn2')
]
hog_se_in_bottlenecks = [
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), after='layer*.*.bn2')
]
hog_cbam_in_bottlenecks = [
    dict(
        cfg=dict(type='HOGCBAMAttention', num_groups=4), after='layer*.*.bn2')
]
# Seed 004 table 6: K = 4 HOGA whose every edge is SE / CBAM.
hog_se_in_blocks = [
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), in_blocks='layer*.*')
]
hog_cbam_in_blocks = [
    dict(
        cfg=dict(type='HOGCBAMAttention', num_groups=4), in_blocks='layer*.*')
]
