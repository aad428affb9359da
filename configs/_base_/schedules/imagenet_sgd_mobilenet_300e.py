# ImageNet MobileNetV2 / FBNetV2 schedule. Seed 000 (appendix B.4, table 4)
# states none: this is the standard MobileNetV2 recipe (SGD momentum 0.9,
# lr 0.045 for batch 256, weight decay 4e-5, x0.98 per epoch, 300 epochs).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.045, momentum=0.9, weight_decay=4e-5))
param_scheduler = [dict(type='StepLR', by_epoch=True, step_size=1, gamma=0.98)]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
