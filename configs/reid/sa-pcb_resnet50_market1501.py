# PCB + SA with deep supervision on Market-1501 (seed 002 table 1, row
# "PCB + SA"; table 6 for its cost): CSA replaced by the original
# self-attention; schedule and data as pcb_resnet50_market1501.py.
_base_ = [
    '../_base_/models/sa-pcb_resnet50.py',
    '../_base_/datasets/market1501_384x128_pcb.py',
    '../_base_/schedules/pcb_sgd_100e.py', '../_base_/default_runtime.py'
]
# ReIDMetric's keys have no rule mmengine can infer.
default_hooks = dict(checkpoint=dict(save_best='reid/mAP', rule='greater'))
