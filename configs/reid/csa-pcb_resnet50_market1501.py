# PCB + CSA with deep supervision on Market-1501 (seed 002 tables 1-5, row
# "PCB + CSA"); schedule and data as pcb_resnet50_market1501.py.
_base_ = [
    '../_base_/models/csa-pcb_resnet50.py',
    '../_base_/datasets/market1501_384x128_pcb.py',
    '../_base_/schedules/pcb_sgd_100e.py', '../_base_/default_runtime.py'
]
# ReIDMetric's keys have no rule mmengine can infer.
default_hooks = dict(checkpoint=dict(save_best='reid/mAP', rule='greater'))
