# Seed 003 table 3(d): 4 modes (heads) instead of 8 (K = 3); everything
# else as stra-resnet50_b32_market1501.py.
_base_ = ['../reid/stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StructureRegularizedAttention',
                groups=4,
                kernel_size=3,
                gate='sigmoid',
                mode_interaction=True),
            replace='layer4.*.conv2')
    ]))
