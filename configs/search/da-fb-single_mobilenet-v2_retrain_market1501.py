# DA-FB retraining, Single-Window DA on MobileNetV2 (seed 000, appendix
# B.6.1): the windows exported by the search (ExportArchitectureHook or
# tools/export_arch.py) are fixed and the unselected channels pruned from the
# affinity; 256x128, momentum SGD 0.9, lr 0.035 (/10 at epochs 300 and 500),
# weight decay 5e-4, 600 epochs. Point arch_file at the search's JSON:
#   --cfg-options model.backbone.arch_file=work_dirs/<search>/architecture.json
_base_ = ['./da-fb-single_mobilenet-v2_search_market1501.py']
arch_file = ('work_dirs/da-fb-single_mobilenet-v2_search_market1501/'
             'architecture.json')
model = dict(
    _delete_=True,
    type='ReID',
    backbone=dict(
        type='SearchedBackbone',
        arch_file=arch_file,
        backbone={{_base_.backbone}}),
    neck={{_base_.reid_model.neck}},
    head={{_base_.reid_model.head}})

train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=600, val_interval=50)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.035, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[300, 500], gamma=0.1)
]
model_wrapper_cfg = None
custom_hooks = []
