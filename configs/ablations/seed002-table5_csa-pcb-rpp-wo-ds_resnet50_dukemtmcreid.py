# Seed 002 table 5: PCB-RPP + CSA without deep supervision (no auxiliary
# classifier after the CSA modules) on DukeMTMC-reID.
_base_ = ['../reid/csa-pcb-rpp_resnet50_dukemtmcreid.py']
model = dict(auxiliary_losses=None)
