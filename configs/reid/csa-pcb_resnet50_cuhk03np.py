# PCB + CSA on CUHK03-NP (detected boxes, seed 002's choice) (seed 002 table
# 1, CUHK03-NP columns):
# csa-pcb_resnet50_market1501.py with the dataset and its 767 training
# identities swapped.
_base_ = ['./csa-pcb_resnet50_market1501.py']
train_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
val_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
test_dataloader = val_dataloader
model = dict(
    head=dict(num_classes=767),
    auxiliary_losses=[
        dict(
            type='AttentionDeepSupervision',
            head=dict(
                type='CSADeepSupervisionHead',
                num_classes=767,
                loss_weight=1.0))
    ])
