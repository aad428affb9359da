# As l2net-sa_hardnet_b1024_brown-liberty.py, trained on Notredame (seed 002
# table 7
# columns "Train Notredame").
_base_ = ['./l2net-sa_hardnet_b1024_brown-liberty.py']

train_dataloader = dict(dataset=dict(sequences=['notredame']))
val_dataloader = dict(dataset=dict(sequences=['liberty', 'yosemite']))
test_dataloader = val_dataloader
