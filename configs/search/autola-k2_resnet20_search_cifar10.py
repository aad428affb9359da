# AutoLA with K = 2 (seed 004 table 6, "AutoLA (k=2)"): the HOGA search of
# autola_resnet20_search_cifar10.py with two channel groups (3 edges instead
# of 10); retrained by autola-k2_resnet20_retrain-searched_cifar10.py.
_base_ = ['./autola_resnet20_search_cifar10.py']
backbone = dict(attentions=[
    dict(
        cfg=dict(type='HOGAttention', num_groups=2, search=True),
        in_blocks='layer*.*')
])
model = dict(model=dict(backbone=backbone))
