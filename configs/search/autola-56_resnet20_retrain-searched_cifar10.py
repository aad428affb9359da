# ResNet-20 + AutoLA_56 (seed 004 table 6): the genotype searched on
# ResNet-56 (autola_resnet56_search_cifar10.py) trained on ResNet-20, with
# the schedule of autola_resnet20_retrain-searched_cifar10.py.
_base_ = ['./autola_resnet20_retrain-searched_cifar10.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/autola_resnet56_search_cifar10/architecture.json')
)
