# Seed 001 tables V and VI: FBNetV2-Large, the vanilla model: the subnet of
# the plain DNAS search (ablation_fbnetv2-large_search_market1501.py)
# retrained without attention and without IBB.
_base_ = ['./ablation_dcs-dnas_fbnetv2-large_wo-ibb_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/ablation_fbnetv2-large_search_market1501/'
        'architecture.json',
        backbone=dict(attentions=[])))
