# Seed 002 table 2: PCB + CSA with D = 16 base attention maps per group
# (G = 2) on Market-1501; everything else as csa-pcb_resnet50_market1501.py.
_base_ = ['../reid/csa-pcb_resnet50_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=16, groups=2),
            after=['layer1', 'layer2', 'layer3'])
    ]))
