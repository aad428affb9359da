# PCB + CSA (seed 002, figure 4): CSA (D = 32 base maps per group, G = 2
# groups) between ResNet-50 stages 1-2, 2-3 and 3-4 (N = 3), each with a
# deep-supervision branch (GAP -> FC -> cross entropy, lambda = 1.0, eq. 8).
# Keep the deep-supervision head's num_classes equal to model.head.num_classes.
_base_ = ['./pcb_resnet50.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='AttentionBackbone',
        backbone={{_base_.model.backbone}},
        attentions=[
            dict(
                cfg=dict(
                    type='CompressedSelfAttention', num_bases=32, groups=2),
                after=['layer1', 'layer2', 'layer3'])
        ],
        dummy_input_shape=(1, 3, 384, 128)),
    # paths default to every attention module injected into the model.
    auxiliary_losses=[
        dict(
            type='AttentionDeepSupervision',
            head=dict(
                type='CSADeepSupervisionHead',
                num_classes=751,
                loss_weight=1.0))
    ])
