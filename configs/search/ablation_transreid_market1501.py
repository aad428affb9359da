# Seed 001 tables V and VI: TransReID, the vanilla model (no DCS, no IBB).
# The backbone keeps the AttentionBackbone wrapper with no injection, so its
# module paths and checkpoint keys are those of the DCS-FB rows.
_base_ = ['./ablation_dcs-fb_transreid_wo-ibb_market1501.py']
model = dict(backbone=dict(attentions=[]))
