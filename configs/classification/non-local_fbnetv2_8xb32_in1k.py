# FBNetV2 + SA (vanilla self-attention, embedded-Gaussian non-local block)
# after each of the four stages (seed 000 table 4, "FBNetV2+SA").
_base_ = ['./fbnetv2_8xb32_in1k.py']
model = dict(
    backbone=dict(
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='NonLocalAttention'),
                after=['stage1', 'stage2', 'stage3', 'stage4']),
        ])))
