# Seed 001 table V: FBNetV2-Large (Self-Attention) w/o IBB: the plain DNAS
# subnet with vanilla non-local blocks after each stage (where DCS-DNAS puts
# DCS), trained with CE + triplet only.
_base_ = ['./ablation_fbnetv2-large_retrain_market1501.py']
model = dict(
    backbone=dict(
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='NonLocalAttention'),
                after=['stage1', 'stage2', 'stage3', 'stage4'])
        ])))
