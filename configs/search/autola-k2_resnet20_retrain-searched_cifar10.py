# ResNet-20 + AutoLA (k=2) (seed 004 table 6): the K = 2 genotype of
# autola-k2_resnet20_search_cifar10.py trained from scratch with the
# schedule of autola_resnet20_retrain-searched_cifar10.py.
_base_ = ['./autola_resnet20_retrain-searched_cifar10.py']
model = dict(
    backbone=dict(
        arch_file=
        'work_dirs/autola-k2_resnet20_search_cifar10/architecture.json',
        backbone=dict(
            backbone=dict(depth=20),
            attentions=[
                dict(
                    cfg=dict(type='HOGAttention', num_groups=2, search=True),
                    in_blocks='layer*.*')
            ])))
