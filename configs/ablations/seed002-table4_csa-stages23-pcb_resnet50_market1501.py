# Seed 002 table 4: PCB + CSA on the 2nd, 3rd stages of ResNet-50 (one
# deep-supervision branch per CSA module) on Market-1501.
_base_ = ['../reid/csa-pcb_resnet50_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=2),
            after=['layer2', 'layer3'])
    ]))
