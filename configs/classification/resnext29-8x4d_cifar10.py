# ResNeXt-29 (8x4d) on CIFAR-10 (seed 004 table 3), schedule as
# resnet20_cifar10.py.
_base_ = [
    '../_base_/models/resnext29-8x4d_cifar.py',
    '../_base_/datasets/cifar10_bs256.py',
    '../_base_/schedules/cifar_sgd_cosine_500e.py',
    '../_base_/default_runtime.py'
]
# Wrapped so that the attention configs fill model.backbone.attentions.
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone={{_base_.model.backbone}},
        attentions=[],
        dummy_input_shape=(1, 3, 32, 32)))
