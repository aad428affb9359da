# Seed 001 table VI: FBNetV2-Large with IBB: the plain DNAS subnet
# (ablation_fbnetv2-large_search_market1501.py) retrained without attention,
# with CE + triplet + 0.1 * IBB (IB term off for the first 30% of epochs).
_base_ = ['./dcs-dnas_fbnetv2-large_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/ablation_fbnetv2-large_search_market1501/'
        'architecture.json',
        backbone=dict(attentions=[])))
