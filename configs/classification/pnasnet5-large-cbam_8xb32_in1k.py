# PNASNet-5-Large + CBAM (seed 004 table 3, "PNAS + CBAM"): CBAM (channel
# reduction 16, 7 x 7 spatial attention) on the output of each of the 12
# PNAS cells, where pnasnet5-large-se_8xb32_in1k.py puts SE (see there why).
_base_ = ['./pnasnet5-large_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CBAMAttention', reduction=16),
            after='timm_model.cell_[0-9]*')
    ]))
