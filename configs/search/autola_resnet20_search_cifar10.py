# AutoLA: HOGA search on ResNet-20 / CIFAR-10 (seed 004 section 4.2): K = 4,
# the training set split evenly into train_A (weights) and train_B (alpha),
# first-order DARTS alternating every iteration, 100 epochs, batch 128;
# weights: SGD momentum 0.9, weight decay 3e-4, cosine lr 0.025 -> 0.001;
# alpha (one 10 x 9 tensor shared by all HOGA modules, init N(0, 1) x 1e-3):
# Adam lr 3e-3, betas (0.5, 0.999), weight decay 1e-3 (METHODS.md
# section 5). HOGA inside every residual block, before the shortcut add.
_base_ = [
    '../_base_/datasets/cifar10_bs256.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=128)

depth = 20
backbone = dict(
    type='AttentionBackbone',
    backbone=dict(type='CifarResNet', depth=depth, base_channels=16),
    attentions=[
        dict(
            cfg=dict(type='HOGAttention', num_groups=4, search=True),
            in_blocks='layer*.*')
    ],
    dummy_input_shape=(1, 3, 32, 32))
classifier = dict(
    type='ImageClassifier',
    backbone=backbone,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
model = dict(type='BilevelSearchModel', model=classifier)

train_cfg = dict(
    type='BilevelEpochBasedTrainLoop',
    max_epochs=100,
    split_ratio=0.5,
    schedule='interleave',
    val_interval=10)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=3e-4)),
    architecture=dict(
        optimizer=dict(
            type='Adam', lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    weights=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=True,
            T_max=100,
            eta_min=0.001,
            convert_to_iter_based=True)
    ],
    architecture=[])
model_wrapper_cfg = dict(
    type='BilevelDistributedDataParallel', find_unused_parameters=True)
custom_hooks = [
    dict(type='ArchitectureLoggerHook'),
    dict(type='ExportArchitectureHook', out_file='architecture.json'),
]
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best=None))
