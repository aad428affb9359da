# PNASNet-5-Large + SE (seed 004 table 3, "PNAS + SE"): an SE module
# (reduction 16) on the output of each of the 12 PNAS cells (cell_0 ..
# cell_11; the two stem cells are left as they are). A PNAS cell concatenates
# five branches and has no shortcut add, so "after the last BN, before the
# add" of the ResNet blocks has no counterpart; the attention sits on the
# cell output as SENet's SE-Inception module puts it on the Inception
# module's output. The paper does not say where in PNAS it put SE.
_base_ = ['./pnasnet5-large_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='SEAttention', reduction=16),
            after='timm_model.cell_[0-9]*')
    ]))
