# DCS-DNAS retraining of the derived FBNetV2 subnet with DCS after each stage
# and the IBB. The seeds pre-train the searched network on ImageNet and then
# fine-tune with Adam (lr 3.5e-4, warm-up, /10 after epochs 200 and 300,
# 400 epochs, seed 000 appendix B.6.2); this config is the Re-ID stage, from
# scratch unless model.backbone.init_cfg names an ImageNet checkpoint.
#   --cfg-options model.backbone.arch_file=work_dirs/<search>/architecture.json
_base_ = ['./dcs-dnas_fbnetv2_search_market1501.py']
arch_file = 'work_dirs/dcs-dnas_fbnetv2_search_market1501/architecture.json'
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
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=400, val_interval=50)
optim_wrapper = dict(
    _delete_=True,
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
    dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300], gamma=0.1)
]
model_wrapper_cfg = None
custom_hooks = [dict(type='IBVariationalHook', warmup_ratio=0.3)]
