# ResNet-32 + AutoLA with the paper's searched genotype (seed 004 figure 3,
# HOGA_GENOTYPES['autola']); schedule as
# autola_resnet20_retrain-searched_cifar10.py.
_base_ = ['./autola_resnet20_retrain-searched_cifar10.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone=dict(type='CifarResNet', depth=32, base_channels=16),
        attentions=[
            dict(
                cfg=dict(type='HOGAttention', num_groups=4, genotype='autola'),
                in_blocks='layer*.*')
        ],
        dummy_input_shape=(1, 3, 32, 32)))
