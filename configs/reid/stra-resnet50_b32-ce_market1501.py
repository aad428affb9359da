# ResNet50-StRA on Market-1501 with StRA's own Re-ID recipe (seed 003
# section 5.1: "Classification loss (i.e., cross entropy loss) based on the
# labels of identities"): one plain cross-entropy loss on the pooled
# feature, no BNNeck, no label smoothing, no triplet loss, batches drawn at
# random (no PK sampling); StRA, the diversity loss, data, optimiser and
# schedule as stra-resnet50_b32_market1501.py, which keeps the stronger
# BNNeck + label-smoothed ID + triplet recipe of the other Re-ID configs.
_base_ = ['./stra-resnet50_b32_market1501.py']
model = dict(
    neck=dict(_delete_=True, type='PoolingNeck'),
    head=dict(
        loss_id=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0),
        loss_triplet=None))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
