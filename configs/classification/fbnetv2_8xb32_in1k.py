# FBNetV2 on ImageNet (seed 000 table 4): the plain network derived by a
# DNAS search of the FBNetV2 supernet (its argmax channel and expansion
# choices, only the kept channels), read from the search's architecture JSON:
#   --cfg-options model.backbone.arch_file=work_dirs/<search>/architecture.json
# Seed 000 gives no ImageNet recipe; the MobileNetV2 one is used.
_base_ = ['./mobilenet-v2_8xb32_in1k.py']
fbnetv2 = dict(type='FBNetV2Supernet', arch='base', out_indices=(4, ))
model = dict(
    backbone=dict(
        _delete_=True,
        type='SearchedBackbone',
        arch_file='work_dirs/da-dnas_fbnetv2_search_market1501/'
        'architecture.json',
        # The JSON's DA windows belong to the searched Re-ID network.
        fix_windows=False,
        backbone=dict(
            type='AttentionBackbone', backbone=fbnetv2, attentions=[])),
    head=dict(in_channels=1984))
