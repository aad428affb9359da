# FBNetV2-XLarge supernet, 6x depth (seed 001 table IV); otherwise as
# fbnetv2_base_supernet.py.
_base_ = './fbnetv2_base_supernet.py'
model = dict(backbone=dict(arch='xlarge'))
