# ImageNet classifier: ResNet-50 wrapped by AttentionBackbone; the configs in
# configs/attentions/ fill ``model.backbone.attentions``. No default_scope
# here, so that it composes with default_runtime.py.
_base_ = './attention_resnet18_in1k.py'
model = dict(
    backbone=dict(backbone=dict(depth=50)), head=dict(in_channels=2048))
