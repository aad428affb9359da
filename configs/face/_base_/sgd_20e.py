# Seed 003 face schedule: SGD momentum 0.9, lr 0.1, weight decay 5e-4,
# 20 epochs, lr x 0.1 at epochs 8 and 12, batch 512 (8 GPUs x 64).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[8, 12], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
