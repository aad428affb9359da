# Seed 003 table 3(a), row "Mode Attention/wo": StRA whose mode attention
# has no mode interaction; everything else as stra-resnet50_b32_market1501.py.
_base_ = ['../reid/stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StructureRegularizedAttention',
                groups=8,
                kernel_size=3,
                gate='sigmoid',
                mode_interaction=False),
            replace='layer4.*.conv2')
    ]))
