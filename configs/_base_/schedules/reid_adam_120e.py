# Bag-of-Tricks Re-ID schedule: Adam 3.5e-4, linear warm-up for 10 epochs,
# x0.1 at epochs 40 and 70, 120 epochs. Epoch-based on purpose: mmengine's
# IterBasedTrainLoop sleeps at every epoch end of its loader
# (PERFORMANCE-NOTES.md).
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[40, 70], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=20)
val_cfg = dict()
test_cfg = dict()
# lr above is for 1 GPU x 64 images; scale with --cfg-options or auto_scale_lr.
auto_scale_lr = dict(base_batch_size=64)
