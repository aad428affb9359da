# As l2net-csa_ral_b1024_brown-liberty.py, trained on Yosemite (seed 002
# table 7
# columns "Train Yosemite").
_base_ = ['./l2net-csa_ral_b1024_brown-liberty.py']

train_dataloader = dict(dataset=dict(sequences=['yosemite']))
val_dataloader = dict(dataset=dict(sequences=['liberty', 'notredame']))
test_dataloader = val_dataloader
