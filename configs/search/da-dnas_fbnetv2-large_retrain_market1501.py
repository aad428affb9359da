# DA-DNAS retraining on FBNetV2-Large.
_base_ = ['./da-dnas_fbnetv2_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/da-dnas_fbnetv2-large_search_market1501/'
        'architecture.json',
        backbone=dict(backbone=dict(arch='large'))))
