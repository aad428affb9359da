# RALNet + CSA (seed 002 tables 7-8): CSA after the 3rd layer of L2Net
# without grouping or deep supervision, robust angular loss; Liberty.
_base_ = ['./l2net-csa_hardnet_b1024_brown-liberty.py']

model = dict(loss=dict(_delete_=True, type='RobustAngularLoss', scale=1.0))
