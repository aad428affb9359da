# Evaluate a ResNet50-StRA face model on CALFW given as a pair list
# (FacePairList: "path1 path2 label [fold]" lines in data/calfw/pairs_list.txt,
# paths relative to data/calfw). The head is unused at test time, so any
# checkpoint of the StRA model works (load warnings about head keys of a
# softmax / CosFace checkpoint are harmless); for a baseline ResNet50
# checkpoint also pass --cfg-options model.backbone.attentions=[].
_base_ = './stra-resnet50_arcface_face.py'
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='FacePairList',
        data_root='data/calfw',
        ann_file='pairs_list.txt',
        name='calfw',
        pipeline={{_base_.test_pipeline}}))
