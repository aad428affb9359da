# Seed 003 table 3(a), row "Local Attention": StRA with its local attention
# (eq. 4) only, no mode attention; everything else as
# stra-resnet50_b32_market1501.py. Without mode attention there are no mode
# masks, so the diversity loss is dropped too.
_base_ = ['../reid/stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StructureRegularizedAttention',
                groups=8,
                kernel_size=3,
                use_mode_attention=False),
            replace='layer4.*.conv2')
    ]),
    auxiliary_losses=None)
