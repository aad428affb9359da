"""HRNet for Re-ID: mmpretrain's HRNet with per-branch insertion points and
one fused Re-ID feature map."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.models.backbones import HRNet
from mmpretrain.models.necks import HRFuseScales

from mmattn.registry import MODELS


class FeatureTap(nn.Identity):
    """Identity that names one branch output as an attention position.

    HRNet stages return lists of maps, which ``after=`` injection cannot
    wrap; a tap per branch gives each map a module path, and its
    ``out_channels`` spares the injection a dry forward.

    Args:
        out_channels (int): Channels of the map that passes through.
    """

    def __init__(self, out_channels):
        super().__init__()
        self.out_channels = out_channels


@MODELS.register_module()
class HRConcatFusion(BaseModule):
    """Upsample every HRNet branch to the highest resolution, concatenate,
    and mix with a 1x1 conv-BN-ReLU (the "HRNetV2" representation).

    Args:
        in_channels (Sequence[int]): Channels of the branches, highest
            resolution first.
        out_channels (int, optional): Channels after the 1x1 conv; None keeps
            the plain concatenation (``sum(in_channels)`` channels, no
            parameters). Defaults to 2048.
        norm_cfg (dict): Norm of the 1x1 conv. Defaults to BN.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: sequence of (B, C_i, H / 2**i, W / 2**i) ->
        (B, out_channels, H, W).
    """

    def __init__(self,
                 in_channels,
                 out_channels=2048,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, (list, tuple)) or not in_channels:
            raise ValueError('HRConcatFusion: in_channels must be a non-empty '
                             f'list of ints, got {in_channels!r}')
        self.in_channels = tuple(in_channels)
        concat_channels = sum(in_channels)
        self.out_channels = out_channels or concat_channels
        self.conv = ConvModule(
            concat_channels, out_channels, 1,
            norm_cfg=norm_cfg) if out_channels else nn.Identity()

    def forward(self, inputs):
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'HRConcatFusion expects {len(self.in_channels)} '
                             f'maps, got {len(inputs)}')
        size = inputs[0].shape[-2:]
        maps = [inputs[0]] + [
            F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            for x in inputs[1:]
        ]
        return self.conv(torch.cat(maps, dim=1))


@MODELS.register_module()
class HRNetReID(HRNet):
    """mmpretrain HRNet (default W32) whose four resolutions are fused into
    one Re-ID feature map.

    Layers and names are mmpretrain's (an ImageNet HRNet checkpoint loads
    into them); added are the taps and the fusion:

    - attention positions: ``layer1`` (stage 1, 256 channels) and one
      :class:`FeatureTap` per branch after stages 2-4, ``stage2_taps.{0,1}``,
      ``stage3_taps.{0..2}``, ``stage4_taps.{0..3}`` (W32: 32, 64, 128, 256
      channels). "After each stage" is ``after=['layer1', 'stage2_taps.*',
      'stage3_taps.*', 'stage4_taps.*']``; ``fusion`` (the fused map) is one
      more.
    - ``fusion='concat'`` (default): :class:`HRConcatFusion`, upsample +
      concat (480 channels for W32) + 1x1 conv-BN-ReLU to ``out_channels``
      at 1/4 resolution; 29.31M + 0.99M parameters for W32 with 2048
      channels, close to the 30.5M of the HRNet Re-ID baseline in seed 001
      table I. ``fusion='incre'``: mmpretrain's ``HRFuseScales``
      (the HRNet classification head: bottleneck per branch, strided
      sums, 1x1 conv to ``out_channels``, 1/32 resolution), 9.87M more.

    Args:
        arch (str): mmpretrain HRNet arch. Defaults to ``'w32'``.
        fusion (str): ``'concat'`` or ``'incre'``. Defaults to ``'concat'``.
        out_channels (int, optional): Channels of the fused map; None with
            ``'concat'`` keeps the 480-channel concatenation.
            Defaults to 2048.
        **kwargs: Other arguments of mmpretrain's ``HRNet`` except
            ``multiscale_output`` (the fusion needs all branches).

    Shapes:
        x: (B, 3, H, W) -> tuple with one map, (B, out_channels, H/4, W/4)
        for ``'concat'``, (B, out_channels, H/32, W/32) for ``'incre'``.
    """

    def __init__(self,
                 arch='w32',
                 fusion='concat',
                 out_channels=2048,
                 **kwargs):
        if fusion not in ('concat', 'incre'):
            raise ValueError("fusion must be 'concat' or 'incre', got "
                             f'{fusion!r}')
        if 'multiscale_output' in kwargs:
            raise ValueError('HRNetReID fuses all branches; do not pass '
                             'multiscale_output')
        if fusion == 'incre' and not out_channels:
            raise ValueError("fusion='incre' needs an int out_channels, got "
                             f'{out_channels!r}')
        super().__init__(arch=arch, multiscale_output=True, **kwargs)
        for i in range(2, 5):
            channels = self.extra[f'stage{i}']['num_channels']
            self.add_module(f'stage{i}_taps',
                            nn.ModuleList(FeatureTap(c) for c in channels))
        branch_channels = self.extra['stage4']['num_channels']
        if fusion == 'concat':
            self.fusion = HRConcatFusion(
                branch_channels, out_channels, norm_cfg=self.norm_cfg)
        else:
            self.fusion = HRFuseScales(
                branch_channels, out_channels, norm_cfg=self.norm_cfg)
        self.out_channels = self.fusion.out_channels

    def forward(self, x):
        x = self.relu(self.norm1(self.conv1(x)))
        x = self.relu(self.norm2(self.conv2(x)))
        x_list = [self.layer1(x)]
        for i in range(2, 5):
            transition = getattr(self, f'transition{i - 1}')
            # A new (lower) resolution branches off the last one.
            inputs = [
                layer(x_list[min(j,
                                 len(x_list) - 1)])
                for j, layer in enumerate(transition)
            ]
            x_list = getattr(self, f'stage{i}')(inputs)
            taps = getattr(self, f'stage{i}_taps')
            x_list = [tap(feat) for tap, feat in zip(taps, x_list)]
        fused = self.fusion(tuple(x_list))
        # HRFuseScales returns a 1-tuple.
        if isinstance(fused, tuple):
            fused = fused[0]
        return (fused, )
