# CIFAR-100 (data/cifar100/cifar-100-python), augmentation and batch as
# cifar10_bs256.py; mean/std of the CIFAR-100 training set.
_base_ = ['./cifar10_bs256.py']
data_preprocessor = dict(
    num_classes=100,
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418])
cifar100 = dict(type='CIFAR100', data_root='data/cifar100')
train_dataloader = dict(dataset=cifar100)
val_dataloader = dict(dataset=cifar100)
test_dataloader = val_dataloader
