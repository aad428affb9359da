# ResNet-50 with attention-augmented 3x3 convs (AA-Net, Bello et al. 2019:
# kappa = d_k / C_out = 0.2, upsilon = d_v / C_out = 0.1, 8 heads, 2D relative
# position logits) in every bottleneck of stages 3-5 (layer2-layer4; AA-Net
# leaves the 56 x 56 stage plain because of the attention's memory), on
# ImageNet: seed 004 table 5, row "ResNet50 + AugAtt" (24.30 M parameters,
# 7.90 GFLOPs, top-1 error 22.30). The relative embeddings are sized by the
# conv's output map at 224 x 224 (28, 14, 7); another input size needs other
# spatial_size values.
_base_ = ['./resnet50_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='AttentionAugmentedConv2d',
                key_ratio=0.2,
                value_ratio=0.1,
                num_heads=8,
                spatial_size=size),
            replace=f'layer{stage}.*.conv2')
        for stage, size in ((2, 28), (3, 14), (4, 7))
    ]))
