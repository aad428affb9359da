# PCB-RPP + CSA on DukeMTMC-reID (seed 002 table 1, DukeMTMC-reID columns):
# csa-pcb-rpp_resnet50_market1501.py with the dataset and its 702 training
# identities swapped.
# Stage 2 (RPP) after 40 epochs of csa-pcb_resnet50_dukemtmcreid.py
# (--work-dir work_dirs/csa-pcb_resnet50_40e_dukemtmcreid --cfg-options
# train_cfg.max_epochs=40).
_base_ = ['./csa-pcb-rpp_resnet50_market1501.py']
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
load_from = 'work_dirs/csa-pcb_resnet50_40e_dukemtmcreid/epoch_40.pth'
