# Seed 002 table 3: PCB + CSA with G = 8 channel groups (D = 32 per group)
# on Market-1501; everything else as csa-pcb_resnet50_market1501.py.
_base_ = ['../reid/csa-pcb_resnet50_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=8),
            after=['layer1', 'layer2', 'layer3'])
    ]))
