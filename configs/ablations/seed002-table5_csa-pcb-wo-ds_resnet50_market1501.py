# Seed 002 table 5: PCB + CSA without deep supervision (no auxiliary
# classifier after the CSA modules) on Market-1501.
_base_ = ['../reid/csa-pcb_resnet50_market1501.py']
model = dict(auxiliary_losses=None)
