# ResNet50-StRA trained with the additive angular margin loss (ArcFace) with
# seed 003's s = 20, m = 0.15 (table 4, "arc loss").
_base_ = [
    './_base_/stra-resnet50_face.py', './_base_/face_112x112.py',
    './_base_/sgd_20e.py', '../_base_/default_runtime.py'
]
model = dict(
    head=dict(
        _delete_=True,
        type='ArcFaceHead',
        num_classes=10572,
        in_channels=512,
        scale=20.0,
        margin=0.15))
default_hooks = dict(
    checkpoint=dict(interval=1, save_best='lfw/accuracy', rule='greater'))
