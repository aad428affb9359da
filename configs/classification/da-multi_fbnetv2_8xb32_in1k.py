# FBNetV2 + Multi-Window DA (initial window length 8) after each of the four
# stages (seed 000 table 4, "FBNetV2+MW-DA"); the windows train with the
# weights on all images, as for MobileNetV2+MW-DA.
_base_ = ['./fbnetv2_8xb32_in1k.py']
model = dict(
    backbone=dict(
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='MultiWindowAttention', window_length=8),
                after=['stage1', 'stage2', 'stage3', 'stage4']),
        ])))
