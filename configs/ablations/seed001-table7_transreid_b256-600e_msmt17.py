# Seed 001 table VII, row "TransReID": the vanilla TransReID (no DCS, no IB
# term) on the training-cost setting of
# seed001-table7_dcs-fb_transreid_b256-600e_msmt17.py (MSMT17, batch 256,
# 600 epochs).
_base_ = ['./seed001-table7_dcs-fb_transreid_b256-600e_msmt17.py']
model = dict(
    backbone=dict(attentions=[]),
    head=dict(
        _delete_=True, type='TransReIDHead', num_classes=1041,
        in_channels=768))
custom_hooks = []
