# Seed 002 table 4: PCB + CSA on the 1st stage of ResNet-50 (one
# deep-supervision branch per CSA module) on DukeMTMC-reID.
_base_ = ['../reid/csa-pcb_resnet50_dukemtmcreid.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='CompressedSelfAttention', num_bases=32, groups=2),
            after=['layer1'])
    ]))
