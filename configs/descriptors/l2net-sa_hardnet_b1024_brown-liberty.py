# HardNet + SA (seed 002 tables 7-8, row "HardNet + SA"): seed 002's
# original self-attention (eq. 1-2, SelfAttention2d) in place of CSA after the
# 3rd layer of L2Net (16x16x64), trained on Liberty; everything else as
# l2net-csa_hardnet_b1024_brown-liberty.py.
_base_ = ['./l2net-csa_hardnet_b1024_brown-liberty.py']

model = dict(
    backbone=dict(attentions=[
        dict(cfg=dict(type='SelfAttention2d'), after='layer3'),
    ]))
