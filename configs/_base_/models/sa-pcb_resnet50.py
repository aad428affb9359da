# PCB + SA (seed 002 table 1, rows "PCB + SA" / "PCB-RPP + SA"): the
# framework of PCB + CSA (figure 4) with every CSA module replaced by seed
# 002's original self-attention (eq. 1-2, SelfAttention2d), "without
# changing other settings, such as the deep supervision branches": after
# ResNet-50 stages 1, 2 and 3 (N = 3), no channel grouping ("too expensive
# for SA"). Seed 002 leaves C' (the query / key width) unstated; the
# default C / 8 is SAGAN's.
_base_ = ['./csa-pcb_resnet50.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='SelfAttention2d'),
            after=['layer1', 'layer2', 'layer3'])
    ]))
