# PCB-RPP on CUHK03-NP (detected boxes, seed 002's choice) (seed 002 table 1,
# CUHK03-NP columns):
# pcb-rpp_resnet50_market1501.py with the dataset and its 767 training
# identities swapped.
# Stage 2 (RPP) after 40 epochs of pcb_resnet50_cuhk03np.py
# (--work-dir work_dirs/pcb_resnet50_40e_cuhk03np --cfg-options
# train_cfg.max_epochs=40).
_base_ = ['./pcb-rpp_resnet50_market1501.py']
train_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
val_dataloader = dict(
    dataset=dict(
        type='CUHK03NP', data_root='data/cuhk03-np', subset='detected'))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=767))
load_from = 'work_dirs/pcb_resnet50_40e_cuhk03np/epoch_40.pth'
