"""MobileNetV2 for Re-ID: a configurable last stride and the 200-layer
MobileNetV2-200 of seed 000 (table 5)."""
import copy

from mmpretrain.models.backbones import MobileNetV2

from mmattn.registry import MODELS


@MODELS.register_module()
class MobileNetV2ReID(MobileNetV2):
    """mmpretrain's MobileNetV2 with a last-stride option and a deeper arch.

    Only the stage table changes; blocks, stem, the final 1x1 conv (1280
    channels at width 1.0), ``out_indices`` and ``frozen_stages`` are
    mmpretrain's. Module names stay ``conv1``, ``layer1`` ... ``layer7``,
    ``conv2``, so attentions are injected by the same paths on both archs:
    the seeds put them after the 24-, 32-, 96- and 320-channel stages,
    ``after=['layer2', 'layer3', 'layer5', 'layer7']``.

    Archs (expand ratio t, channels c, repeats n, stride s per stage):

    - ``'mobilenetv2'``: n = 1, 2, 3, 4, 3, 3, 1 (53 conv layers), the
      stock network.
    - ``'mobilenetv2-200'``: n = 1, 3, 21, 19, 18, 3, 1 for c = 16, 24, 32,
      64, 96, 160, 320: 66 inverted residual blocks, i.e. 2 + 65 * 3 + the
      stem, the 1280-d conv and the classifier = 200 layers (seed 000,
      table 5).

    Args:
        arch (str): ``'mobilenetv2'`` or ``'mobilenetv2-200'``.
            Defaults to ``'mobilenetv2'``.
        last_stride (int): Stride of the last down-sampling stage
            (``layer6``, 160 channels). Re-ID models commonly use 1, which
            doubles the final map (H/16 x W/16 instead of H/32 x W/32)
            without adding parameters. Defaults to 2 (stock MobileNetV2).
        **kwargs: Other arguments of mmpretrain's ``MobileNetV2``
            (``widen_factor``, ``out_indices``, ``frozen_stages``,
            ``norm_cfg``, ``init_cfg`` ...).

    Shapes:
        x: (B, 3, H, W) -> tuple with one (B, C, h, w) map per
        ``out_indices`` entry; by default (B, 1280, H/32, W/32), or
        (B, 1280, H/16, W/16) with ``last_stride=1``.
    """

    # Repeats per stage; t, c, s are MobileNetV2's.
    arch_repeats = {
        'mobilenetv2': (1, 2, 3, 4, 3, 3, 1),
        'mobilenetv2-200': (1, 3, 21, 19, 18, 3, 1),
    }
    # Index (in the stage table) of the stage whose stride ``last_stride``
    # sets: the last stage with stride 2.
    last_stride_stage = 5

    def __init__(self, arch='mobilenetv2', last_stride=2, **kwargs):
        if arch not in self.arch_repeats:
            raise ValueError(f'arch must be one of {sorted(self.arch_repeats)}'
                             f', got {arch!r}')
        if last_stride not in (1, 2):
            raise ValueError(
                f'last_stride must be 1 or 2, got {last_stride!r}')
        settings = copy.deepcopy(MobileNetV2.arch_settings)
        for setting, repeats in zip(settings, self.arch_repeats[arch]):
            setting[2] = repeats
        settings[self.last_stride_stage][3] = last_stride
        # mmpretrain's __init__ builds the stages from self.arch_settings; an
        # instance attribute set first overrides the class table.
        self.arch_settings = settings
        self.arch = arch
        self.last_stride = last_stride
        super().__init__(**kwargs)

    def train(self, mode=True):
        # mmpretrain's MobileNetV2.train returns None; nn.Module's contract
        # (and ``model.eval()`` chaining) is to return the module.
        super().train(mode)
        return self
