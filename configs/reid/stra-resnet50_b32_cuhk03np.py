# ResNet50-StRA on CUHK03-NP (detected boxes, seed 002's choice) (seed 003
# table 1): stra-resnet50_b32_market1501.py
# with the dataset and its 767 training identities swapped.
_base_ = ['./stra-resnet50_b32_market1501.py']
train_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
val_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=767))
