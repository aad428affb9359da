# AutoLA with K = 2 searched on ResNet-32 (seed 004 table 6, "ResNet32 +
# AutoLA (k=2)").
_base_ = ['./autola-k2_resnet20_search_cifar10.py']
backbone = dict(backbone=dict(depth=32))
model = dict(model=dict(backbone=backbone))
