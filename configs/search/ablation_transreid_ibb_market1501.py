# Seed 001 table VI: TransReID with IBB (no DCS; CE + triplet + 0.1 * IBB on
# the global branch, the IB term off for the first 30% of the epochs).
_base_ = ['./dcs-fb_transreid_market1501.py']
model = dict(backbone=dict(attentions=[]))
