# RALNet + SA (seed 002 tables 7-8): seed 002's self-attention after the 3rd
# layer of L2Net, robust angular loss; Liberty.
_base_ = ['./l2net-sa_hardnet_b1024_brown-liberty.py']

model = dict(loss=dict(_delete_=True, type='RobustAngularLoss', scale=1.0))
