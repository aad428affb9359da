# DA-DNAS search on FBNetV2-Large (3x depth, seed 000 table 6).
_base_ = ['./da-dnas_fbnetv2_search_market1501.py']
model = dict(model=dict(backbone=dict(backbone=dict(arch='large'))))
