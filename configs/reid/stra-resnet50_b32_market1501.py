# ResNet50-StRA on Market-1501 (seed 003 section 5.1 and supplementary):
# StRA (G = 8 modes, K = 3, sigmoid mode gate, mode interaction) replaces the
# 3x3 conv of the three layer4 bottlenecks of a last-stride-1 ResNet-50;
# BNNeck + ID + triplet head; the diversity loss of the mode masks with
# weight 1.0. 256 x 128, flip / crop / erasing, Adam 3e-4 (weight decay
# 5e-4) x0.2 every 20 epochs, batch 32, 90 epochs; the pretrained stages are
# frozen for the first 8 epochs while StRA and the head train.
#
# ImageNet weights: mmpretrain's ResNet-50 classifier (StRA's conv2 has no
# pretrained weights and starts from its own initialisation), downloaded
# once to the torch hub cache (docs/user_guides/pretrained.md). Set
# model.backbone.backbone.init_cfg=None to train from scratch.
_base_ = ['./resnet50_b64_market1501.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone=dict(
            type='ResNet',
            depth=50,
            strides=(1, 2, 2, 1),
            out_indices=(3, ),
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
                prefix='backbone.')),
        attentions=[
            dict(
                cfg=dict(
                    type='StructureRegularizedAttention',
                    groups=8,
                    kernel_size=3,
                    gate='sigmoid',
                    mode_interaction=True),
                replace='layer4.*.conv2')
        ],
        dummy_input_shape=(1, 3, 256, 128)),
    auxiliary_losses=[
        dict(
            type='StRAModeDiversity',
            loss=dict(type='DiversityLoss', loss_weight=1.0))
    ])
batch_size = 32
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(type='PKSampler', num_instances=4, batch_size=batch_size))
optim_wrapper = dict(optimizer=dict(lr=3e-4, weight_decay=5e-4))
param_scheduler = [
    dict(type='StepLR', by_epoch=True, step_size=20, gamma=0.2),
]
train_cfg = dict(max_epochs=90, val_interval=10)
custom_hooks = _base_.custom_hooks + [
    dict(type='FreezeModulesHook', paths='backbone.backbone', epochs=8)
]
auto_scale_lr = dict(base_batch_size=32)
