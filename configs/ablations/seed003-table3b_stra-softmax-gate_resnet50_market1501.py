# Seed 003 table 3(b), row "softmax": the mode gate is a softmax over the
# modes instead of a sigmoid; everything else as
# stra-resnet50_b32_market1501.py.
_base_ = ['../reid/stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StructureRegularizedAttention',
                groups=8,
                kernel_size=3,
                gate='softmax',
                mode_interaction=True),
            replace='layer4.*.conv2')
    ]))
