# ResNet-50 + GCNet's global context block (r16, attention pooling,
# channel add) in every bottleneck, after norm3 and before the shortcut add
# (GCNet's "all stages"), on ImageNet: seed 004 table 5, row
# "ResNet50 + GCNet" (28.08 M parameters, 3.87 GFLOPs, top-1 error 22.30).
# The block is mmcv's ContextBlock (GlobalContextAttention wraps it).
_base_ = ['./resnet50_8xb32_in1k.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(type='GlobalContextAttention', ratio=1. / 16),
            in_blocks='layer*.*')
    ]))
