# ResNet50-StRA on DukeMTMC-reID (seed 003 table 1):
# stra-resnet50_b32_market1501.py
# with the dataset and its 702 training identities swapped.
_base_ = ['./stra-resnet50_b32_market1501.py']
train_dataloader = dict(
    dataset=dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid'))
val_dataloader = dict(
    dataset=dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid'))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=702))
