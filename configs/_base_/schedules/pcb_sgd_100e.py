# PCB schedule (Sun et al. 2018, as followed by seed 002): SGD momentum 0.9,
# weight decay 1e-4, batch 64, base lr 0.1 x0.1 every 40 epochs, 100 epochs;
# the pre-trained backbone learns at 0.1x the base lr. Modules injected into
# the backbone (CSA, SA: '.attention.') are new and learn at the base lr.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        '.attention.': dict(lr_mult=1.0),
    }))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[40, 80], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=20)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
