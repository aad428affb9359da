# DCS-DNAS search on FBNetV2-XLarge (6x depth) (seed 001 tables III-IV).
_base_ = ['./dcs-dnas_fbnetv2_search_market1501.py']
model = dict(model=dict(backbone=dict(backbone=dict(arch='xlarge'))))
