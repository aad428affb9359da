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
# Seed 004 table 6: K = 4 HOGA whose every edge is SE / CBAM.
hog_se_in_blocks = [
    dict(cfg=dict(type='HOGSEAttention', num_groups=4), in_blocks='layer*.*')
]
hog_cbam_in_blocks = [
    dict(cfg=dict(type='HOGCBAMAttention', num_groups=4),
         in_blocks='layer*.*')
]
