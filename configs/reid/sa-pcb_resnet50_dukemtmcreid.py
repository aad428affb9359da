# PCB + SA on DukeMTMC-reID (seed 002 table 1, DukeMTMC-reID columns):
# sa-pcb_resnet50_market1501.py with the dataset and its 702 training
# identities swapped.
_base_ = ['./sa-pcb_resnet50_market1501.py']
train_dataloader = dict(
    dataset=dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid'))
val_dataloader = dict(
    dataset=dict(type='DukeMTMCReID', data_root='data/dukemtmc-reid'))
test_dataloader = val_dataloader
model = dict(
    head=dict(num_classes=702),
    auxiliary_losses=[
        dict(
            type='AttentionDeepSupervision',
            head=dict(
                type='CSADeepSupervisionHead',
                num_classes=702,
                loss_weight=1.0))
    ])
