# ResNet50-StRA face model (seed 003 section 5.2): ResNet-50 with last stride
# 1 (112 x 112 input -> 7 x 7 at layer4), StRA (G = 8, K = 3) replacing the
# 3x3 conv of the three layer4 bottlenecks, the BN-Dropout-FC-BN 512-d
# embedding on the flattened 2048 x 7 x 7 map, a face head (set by each
# config) and the StRA diversity loss with seed 003's face weight 0.1.

model = dict(
    type='FaceRecognizer',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        # Faces are normalised as (pixel - 127.5) / 128 (seed 003 supp.).
        mean=[127.5, 127.5, 127.5],
        std=[128.0, 128.0, 128.0],
        to_rgb=True),
    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(
            type='ResNet',
            depth=50,
            num_stages=4,
            strides=(1, 2, 2, 1),
            out_indices=(3, ),
            style='pytorch'),
        attentions=[
            dict(
                cfg=dict(
                    type='StructureRegularizedAttention',
                    groups=8,
                    kernel_size=3,
                    gate='sigmoid',
                    mode_interaction=True),
                replace='layer4.*.conv2'),
        ],
        dummy_input_shape=(1, 3, 112, 112)),
    neck=dict(
        type='FaceEmbeddingNeck',
        in_channels=2048,
        feature_size=(7, 7),
        embed_dim=512,
        dropout=0.4),
    head=dict(type='ArcFaceHead', num_classes=10572, in_channels=512),
    auxiliary_losses=[
        dict(
            type='StRAModeDiversity',
            loss=dict(type='DiversityLoss', loss_weight=0.1))
    ],
    flip_test=True)
