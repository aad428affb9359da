# AutoLA_56 (seed 004 table 6): the HOGA search of
# autola_resnet20_search_cifar10.py run on ResNet-56 instead of ResNet-20
# (same K = 4, split, optimisers and 100 epochs). Its genotype is then
# trained on ResNet-20 / ResNet-32 by autola-56_resnet20_retrain-searched /
# autola-56_resnet32_retrain-searched (the "AutoLA_56 (k=4)" rows).
_base_ = ['./autola_resnet20_search_cifar10.py']
backbone = dict(backbone=dict(depth=56))
model = dict(model=dict(backbone=backbone))
