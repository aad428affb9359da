# Shared by the Re-ID search configs of configs/search: the bilevel loop,
# its DDP wrapper, architecture logging and the export at the end.
_base_ = [
    '../../_base_/datasets/market1501.py', '../../_base_/default_runtime.py'
]

train_cfg = dict(
    type='BilevelEpochBasedTrainLoop',
    max_epochs=300,
    split_ratio=0.8,  # 80% weights (train_A), 20% architecture (train_B)
    schedule='sequential',  # seed 000 algorithm 1 / seed 001 section 4.2
    val_interval=50)
val_cfg = dict()
test_cfg = dict()
model_wrapper_cfg = dict(
    type='BilevelDistributedDataParallel', find_unused_parameters=True)
custom_hooks = [
    dict(type='ArchitectureLoggerHook'),
    dict(type='ExportArchitectureHook', out_file='architecture.json'),
]
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best=None))
