# CIFAR evaluation schedule of seed 004 (section 4.3): from scratch, 500
# epochs, batch 256. The optimiser is not stated: SGD momentum 0.9, lr 0.1,
# weight decay 3e-4 (the search's), cosine to 0.001. Used for CIFAR-100 too
# (seed 004 gives no CIFAR-100 schedule).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=3e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        T_max=500,
        eta_min=0.001,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=500, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
