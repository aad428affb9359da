# The keypoint demo: SimpleBaseline with HOGA in every ResNet-50 Bottleneck
# (td-hm_res50-hoga_8xb64-210e_coco-256x192.py, mmpose's pipeline and
# CocoMetric unchanged) trained from scratch on the stick figures written by
#   python tools/misc/make_synthetic_coco.py data/synthetic_coco_pose \
#       --task pose --num-train 256 --num-val 32
# Small: 96x64 crops (ResNet-50's 3x2 map, a 24x16 heatmap), ground-truth
# person boxes, 30 epochs, no ImageNet checkpoint (init_cfg=None; set
# model.backbone.init_cfg to the -hoga config's to start from one). A GPU
# job: HOGA ResNet-50 (30M parameters) from scratch needs many iterations; on
# 2 CPU cores add --cfg-options train_cfg.max_epochs=1 for a smoke run.
_base_ = ['./td-hm_res50-hoga_8xb64-210e_coco-256x192.py']
data_root = 'data/synthetic_coco_pose/'

# The base config resolved ``codec`` into the head and the pipelines when it
# was read, so each use is restated with the small one.
codec = dict(
    type='MSRAHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=1)
model = dict(backbone=dict(init_cfg=None), head=dict(decoder=codec))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=data_root, bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root +
                     'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator

# A short schedule with the base's Adam: warm-up over the first 50
# iterations, then x0.1 at epochs 20 and 27.
train_cfg = dict(max_epochs=30, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=30,
        milestones=[20, 27],
        gamma=0.1,
        by_epoch=True)
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=10))
