# RALNet (Xu et al. 2019): L2Net trained with the robust angular loss
# (cosine similarity, hardest in-batch negative, 1 - tanh of the relative
# similarity) instead of HardNet's margin loss, on Liberty: the second base
# model of seed 002 tables 7-8 (row "RALNet"). Seed 002 follows RALNet's own
# implementation details, which match HardNet's schedule kept here.
_base_ = ['./l2net_hardnet_b1024_brown-liberty.py']

model = dict(loss=dict(_delete_=True, type='RobustAngularLoss', scale=1.0))
