# Attention: Structure-Regularized Attention (seed 003), G = 8 modes, K = 3,
#   sigmoid mode gate, mode interaction.
# Backbone: ResNet-50 with last stride 1 (strides=(1, 2, 2, 1)); StRA
#   replaces the 3x3 conv (conv2) of the three layer4 bottlenecks.
# The diversity loss of the mode masks (DiversityLoss on
#   collect_mode_masks(model)) needs a model that adds it; this classifier
#   snippet does not.
# No MobileNetV2 variant: StRA replaces a dense 3x3 conv with equal input and
#   output channels, and MobileNetV2's 3x3 convs are depth-wise (or the
#   stride-2 3 -> 32 stem), so it has no faithful placement there.
_base_ = '../_base_/models/attention_resnet50_in1k.py'
model = dict(
    backbone=dict(
        backbone=dict(strides=(1, 2, 2, 1)),
        attentions=[
            dict(
                cfg=dict(
                    type='StructureRegularizedAttention',
                    groups=8,
                    kernel_size=3,
                    gate='sigmoid',
                    mode_interaction=True),
                replace='layer4.*.conv2'),
        ]))
