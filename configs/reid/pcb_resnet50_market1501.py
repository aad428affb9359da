# PCB on Market-1501 (seed 002 table 1, row "PCB"): 384x128, 100 epochs.
_base_ = [
    '../_base_/models/pcb_resnet50.py',
    '../_base_/datasets/market1501_384x128_pcb.py',
    '../_base_/schedules/pcb_sgd_100e.py', '../_base_/default_runtime.py'
]
# ReIDMetric's keys have no rule mmengine can infer.
default_hooks = dict(checkpoint=dict(save_best='reid/mAP', rule='greater'))
