# ResNet50-StRA trained with the softmax loss (seed 003 table 4, row 2).
_base_ = [
    './_base_/stra-resnet50_face.py', './_base_/face_112x112.py',
    './_base_/sgd_20e.py', '../_base_/default_runtime.py'
]
model = dict(
    head=dict(
        _delete_=True,
        type='SoftmaxFaceHead',
        num_classes=10572,
        in_channels=512))
default_hooks = dict(
    checkpoint=dict(interval=1, save_best='lfw/accuracy', rule='greater'))
