# DA-DNAS retraining: the derived FBNetV2 subnet with the fixed, pruned DA
# windows (fine-tuning schedule of seed 000 appendix B.6.2, see
# dcs-dnas_fbnetv2_retrain_market1501.py).
_base_ = ['./dcs-dnas_fbnetv2_retrain_market1501.py']
model = dict(
    backbone=dict(
        arch_file='work_dirs/da-dnas_fbnetv2_search_market1501/'
        'architecture.json',
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='ChannelWindowAttention'),
                after=['stage1', 'stage2', 'stage3', 'stage4'])
        ])),
    head=dict(
        _delete_=True, type='ReIDHead', num_classes=751, in_channels=1984))
custom_hooks = []
