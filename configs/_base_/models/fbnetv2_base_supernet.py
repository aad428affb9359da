# FBNetV2 supernet (seed 000 table 6, seed 001 table III, as the authors'
# mobile_cv fbnetv2_supernet defines it) in a Re-ID model: the ir_pool head
# (1x1 conv to 1296, global pool, 1x1 conv to 1984), BNNeck, ID + triplet.
# The search wraps it with attention after each stage, e.g.
#   backbone=dict(type='AttentionBackbone', backbone=<this backbone>,
#                 attentions=[dict(cfg=dict(type='DCSAttention'),
#                                  after=['stage1', 'stage2', 'stage3',
#                                         'stage4'])])
# After the search, FBNetV2Supernet.export_arch() gives the dict for
# dict(type='FBNetV2Subnet', arch=...) in the retrain config.
model = dict(
    type='ReID',
    backbone=dict(
        type='FBNetV2Supernet',
        arch='base',
        out_indices=(4, ),
        gumbel_tau=5.0,  # tau0; x exp(-0.045) per epoch by a hook
        flops_input_size=(256, 128)),
    neck=dict(type='BNNeck', in_channels=1984),
    head=dict(
        type='ReIDHead',
        num_classes=751,
        in_channels=1984,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
)
