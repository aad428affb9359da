# ResNet-50 + SASA on Market-1501 (seed 003 table 2 / figure 3, row "SASA"):
# stand-alone local self-attention (seed 003 eq. 3: K x K neighbourhood,
# softmax of q^T k + q^T r with learned relative positions, 8 heads) replaces
# the 3x3 conv of the three layer4 bottlenecks, "following the
# implementation in the section 5.1": the same place, network (last stride
# 1, BNNeck + ID + triplet head), data and schedule as
# stra-resnet50_b32_market1501.py, without StRA's diversity loss. Seed 003
# does not give SASA's neighbourhood; K = 7 is SASA's own ResNet-50 setting.
_base_ = ['./stra-resnet50_b32_market1501.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='StandAloneSelfAttention', kernel_size=7, num_heads=8),
            replace='layer4.*.conv2')
    ]),
    auxiliary_losses=None)
