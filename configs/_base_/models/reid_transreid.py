# TransReID (METHODS.md section 7): ViT-B/16, overlapping 16x16 patches with
# stride 12 (21 x 10 on 256 x 128), SIE (camera) embedding x 3.0, JPM with
# shift 5, 2 shuffle groups and 4 local branches; 5 BNNecks + 5 bias-free
# classifiers, losses 0.5 * global + 0.5 * mean(local), test feature
# concat(global, local / 4).
#
# ImageNet weights: mmpretrain's ViT-B/16 (ImageNet-21k pre-trained, 1k
# fine-tuned, as TransReID's; downloaded once to the torch hub cache, see
# docs/user_guides/pretrained.md), or any ImageClassifier checkpoint with
# 'backbone.*' keys, e.g. timm's ViT-B/16 converted by
# tools/model_converters/imagenet_to_mmattn.py. Its position embedding is
# resized bilinearly to 21 x 10 and its last block is copied into both JPM
# branches.
# Set `init_cfg=None` to train from scratch.
# DCS-FB (TransReID): wrap the backbone in AttentionBackbone with
#   attentions=[dict(cfg=dict(type='DCSViTAttention'),
#                    replace=['layers.*.attn', 'jpm_*.attn'])]
model = dict(
    type='TransReIDModel',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=True),
    backbone=dict(
        type='TransReID',
        arch='base',
        img_size=(256, 128),
        patch_size=16,
        stride=12,
        num_cameras=6,  # Market-1501; DukeMTMC-reID 8, MSMT17 15
        sie_coef=3.0,
        jpm=True,
        num_parts=4,
        shift=5,
        shuffle_groups=2,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384'
            '_20210928-98e8652b.pth',
            prefix='backbone.')),
    head=dict(
        type='TransReIDHead',
        num_classes=751,
        in_channels=768,
        num_parts=4,
        global_weight=0.5,
        loss_id=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=0.3, loss_weight=1.0)),
    test_feature='post_bn',
)
