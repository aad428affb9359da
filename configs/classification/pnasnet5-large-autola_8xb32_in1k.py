# PNASNet-5-Large + AutoLA (seed 004 table 3, "PNAS + AutoLA"): HOGA (K = 4,
# the searched genotype of seed 004 figure 3, fusion SE reduction 16 as for
# the ImageNet and ResNeXt rows) inside each of the 12 PNAS cells, on the
# cell's working width: after the cell's 1 x 1 ActConvBn of its right input
# (`cell_<i>.conv_1x1`, 216 / 432 / 864 channels, one fifth of the cell
# output), before the separable-conv branches that read it. This is where
# the bottleneck configs put HOGA (at the middle width, after bn2) and for
# the same reason: HOGA's fusion costs ~2.25 C^2 per module, and on the cell
# outputs (1080 / 2160 / 4320 channels, where SE / CBAM sit) it would add
# ~170M parameters to the 86M network. The paper does not say where in PNAS
# it put HOGA.
_base_ = ['./pnasnet5-large_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='HOGAttention',
                num_groups=4,
                genotype='autola',
                fusion_reduction=16),
            after='timm_model.cell_[0-9]*.conv_1x1')
    ]))
