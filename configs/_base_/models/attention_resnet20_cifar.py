# CIFAR ResNet-20 (resnet20_cifar.py) wrapped by AttentionBackbone, so that
# the classification configs fill ``model.backbone.attentions`` (empty: the
# plain network).
_base_ = ['./resnet20_cifar.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone={{_base_.model.backbone}},
        attentions=[],
        dummy_input_shape=(1, 3, 32, 32)))
