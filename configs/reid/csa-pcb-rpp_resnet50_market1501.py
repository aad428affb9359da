# PCB-RPP + CSA with deep supervision on Market-1501 (seed 002 table 1, row
# "PCB-RPP + CSA"), stage 2 (RPP, 60 epochs) after 40 epochs of
#   python tools/train.py configs/reid/csa-pcb_resnet50_market1501.py \
#     --work-dir work_dirs/csa-pcb_resnet50_40e_market1501 \
#     --cfg-options train_cfg.max_epochs=40
_base_ = [
    '../_base_/models/csa-pcb_resnet50.py',
    '../_base_/datasets/market1501_384x128_pcb.py',
    '../_base_/schedules/pcb-rpp_sgd_60e.py', '../_base_/default_runtime.py'
]
model = dict(
    neck=dict(
        _delete_=True,
        type='RefinedPartPooling',
        in_channels=2048,
        num_parts=6))
load_from = 'work_dirs/csa-pcb_resnet50_40e_market1501/epoch_40.pth'
# ReIDMetric's keys have no rule mmengine can infer.
default_hooks = dict(checkpoint=dict(save_best='reid/mAP', rule='greater'))
