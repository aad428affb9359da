# CUHK03-NP (767 / 700 identities); subset='labeled' for the labeled boxes.
_base_ = './market1501.py'
dataset_type = 'CUHK03NP'
data_root = 'data/cuhk03-np'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, subset='detected'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, subset='detected'))
test_dataloader = val_dataloader
