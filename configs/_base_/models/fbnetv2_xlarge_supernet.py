# FBNetV2-XLarge supernet, 6x depth (seed 001 table IV, seed 000 table 7;
# the depths and widths of the authors' da_fbnetv2_6x_supernet, see
# docs/user_guides/fbnetv2_supernets.md); otherwise as
# fbnetv2_base_supernet.py.
_base_ = './fbnetv2_base_supernet.py'
model = dict(backbone=dict(arch='xlarge'))
