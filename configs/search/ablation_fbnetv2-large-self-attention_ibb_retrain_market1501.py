# Seed 001 table VI: FBNetV2-Large (Self-Attention) with IBB: the plain DNAS
# subnet (ablation_fbnetv2-large_search_market1501.py) with vanilla non-local
# blocks after each stage instead of DCS.
_base_ = ['./dcs-dnas_fbnetv2-large_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/ablation_fbnetv2-large_search_market1501/'
        'architecture.json',
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='NonLocalAttention'),
                after=['stage1', 'stage2', 'stage3', 'stage4'])
        ])))
