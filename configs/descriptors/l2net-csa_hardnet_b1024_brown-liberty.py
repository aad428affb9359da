# HardNet + CSA (seed 002 table 7): the CSA module after the 3rd layer of
# L2Net (16x16x64), without channel grouping (groups=1) and without deep
# supervision; D = 32 base maps (the CSA default).
_base_ = ['./l2net_hardnet_b1024_brown-liberty.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone=dict(type='L2Net', patch_size=32, dropout=0.3),
        attentions=[
            dict(
                cfg=dict(
                    type='CompressedSelfAttention', num_bases=32, groups=1),
                after='layer3'),
        ],
        dummy_input_shape=(1, 1, 32, 32)))
