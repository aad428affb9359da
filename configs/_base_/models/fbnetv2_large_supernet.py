# FBNetV2-Large supernet, 3x depth (seed 000 table 6, seed 001 table III;
# the depths and widths of the authors' da_fbnetv2_3x_supernet, see
# docs/user_guides/fbnetv2_supernets.md); otherwise as
# fbnetv2_base_supernet.py.
_base_ = './fbnetv2_base_supernet.py'
model = dict(backbone=dict(arch='large'))
