# The plain ResNet50 baseline of seed 003 table 4 (arcface): the StRA config
# without attention and without the diversity loss.
_base_ = './stra-resnet50_arcface_face.py'
model = dict(backbone=dict(attentions=[]), auxiliary_losses=None)
