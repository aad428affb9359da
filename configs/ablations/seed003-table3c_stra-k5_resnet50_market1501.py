# Seed 003 table 3(c): local attention kernel 5 x 5 (G = 8); everything
# else as stra-resnet50_b32_market1501.py (K = 3).
_base_ = ['../reid/stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StructureRegularizedAttention',
                groups=8,
                kernel_size=5,
                gate='sigmoid',
                mode_interaction=True),
            replace='layer4.*.conv2')
    ]))
