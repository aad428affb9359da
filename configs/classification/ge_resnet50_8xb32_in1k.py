# ResNet-50 + Gather-Excite (GE-theta: global extent, parametric gather by one
# depth-wise conv over the whole map, + BN, sigmoid excite) in every
# bottleneck, after norm3 and before the shortcut add, on ImageNet: seed 004
# table 5, row "ResNet50 + GENet" (31.20 M parameters, 3.87 GFLOPs, top-1
# error 22.00). Seed 004 does not say which GE variant; GE-theta is the one
# whose size matches (GE-theta- adds no parameters, GE-theta+ adds 2.5 M
# more). The global gather's kernel is the feature map, so each stage names
# its size at 224 x 224: 56, 28, 14, 7. Another input size needs other
# spatial_size values (or extent=8 etc., which work at any size).
_base_ = ['./resnet50_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='GatherExciteAttention', spatial_size=size),
            in_blocks=f'layer{stage}.*')
        for stage, size in ((1, 56), (2, 28), (3, 14), (4, 7))
    ]))
