# Seed 002 table 3: PCB + CSA with G = 2 channel groups (D = 32 per group)
# on DukeMTMC-reID; everything else as csa-pcb_resnet50_dukemtmcreid.py.
_base_ = ['../reid/csa-pcb_resnet50_dukemtmcreid.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=2),
            after=['layer1', 'layer2', 'layer3'])
    ]))
