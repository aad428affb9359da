# AutoLA evaluation on CIFAR-10 (seed 004 section 4.3): ResNet-20 with the
# searched HOGA genotype, trained from scratch on the whole training set for
# 500 epochs with batch 256. The optimiser of this stage is not stated in the
# paper: SGD momentum 0.9, lr 0.1, weight decay 3e-4, cosine to 0.001.
#   --cfg-options model.backbone.arch_file=work_dirs/<search>/architecture.json
_base_ = ['./autola_resnet20_search_cifar10.py']
arch_file = 'work_dirs/autola_resnet20_search_cifar10/architecture.json'
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(
        type='SearchedBackbone',
        arch_file=arch_file,
        backbone={{_base_.backbone}}),
    neck={{_base_.classifier.neck}},
    head={{_base_.classifier.head}})
train_dataloader = dict(batch_size=256)
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=500, val_interval=10)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=3e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        T_max=500,
        eta_min=0.001,
        convert_to_iter_based=True)
]
model_wrapper_cfg = None
custom_hooks = []
