"""L2Net (Tian et al., CVPR 2017) in its HardNet form (Mishchuk et al. 2017).

The local-descriptor network of seed 002: a 32x32 grayscale patch is
standardised on its own (zero mean, unit standard deviation, like an
InstanceNorm without affine parameters), passes six 3x3 conv-BN-ReLU layers
(32-32-64-64-128-128 channels, stride 2 in layers 3 and 5, so 32 -> 16 -> 8
pixels) and a final 8x8 conv (a fully connected layer on the 8x8 map) to 128
channels + BN, and is L2-normalised. Every BN is without affine parameters
and no conv has a bias, so the descriptor is invariant to the scale of the
weights, which is what lets HardNet train with SGD at learning rate 10.

The layers are named ``layer1`` ... ``layer7`` so that an attention goes in
by path; seed 002 puts CSA after the 3rd layer (16x16x64)::

    backbone=dict(
        type='AttentionBackbone',
        backbone=dict(type='L2Net'),
        attentions=[dict(cfg=dict(type='CompressedSelfAttention', groups=1),
                         after='layer3')],
        dummy_input_shape=(1, 1, 32, 32))
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmattn.registry import MODELS

# (out_channels, stride) of the six 3x3 layers (L2Net / HardNet).
ARCH = ((32, 1), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1))


@MODELS.register_module()
class L2Net(BaseModule):
    """L2Net descriptor network, HardNet variant.

    Args:
        in_channels (int): Input channels; 1 for the grayscale patches of
            Brown and HPatches. Defaults to 1.
        descriptor_dim (int): Channels of the final 8x8 conv, i.e. the
            descriptor length. Defaults to 128.
        patch_size (int): Input side; the final conv covers the whole
            ``patch_size / 4`` map. Defaults to 32.
        dropout (float): Dropout before the final conv (HardNet uses 0.3).
        input_norm_eps (float): Added to the per-patch standard deviation.
            Defaults to 1e-7 (HardNet).
        init_cfg (dict, optional): Initialisation config; without one the
            convs get HardNet's orthogonal initialisation (gain 0.6).

    Shapes:
        x: (B, in_channels, patch_size, patch_size) -> a tuple with one
        (B, descriptor_dim) tensor of unit L2 norm.
    """

    def __init__(self,
                 in_channels: int = 1,
                 descriptor_dim: int = 128,
                 patch_size: int = 32,
                 dropout: float = 0.3,
                 input_norm_eps: float = 1e-7,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('descriptor_dim', descriptor_dim), ('patch_size',
                                                                 patch_size)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value < 1:
                raise ValueError(
                    f'L2Net: {name} must be a positive int, got {value!r}')
        if patch_size % 4 != 0:
            raise ValueError('L2Net: patch_size must be divisible by 4 (two '
                             f'stride-2 layers), got {patch_size}')
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'L2Net: dropout must be in [0, 1), got '
                             f'{dropout!r}')
        self.in_channels = in_channels
        self.descriptor_dim = descriptor_dim
        self.patch_size = patch_size
        self.input_norm_eps = input_norm_eps
        norm_cfg = dict(type='BN', affine=False)
        channels = in_channels
        for index, (out_channels, stride) in enumerate(ARCH, start=1):
            self.add_module(
                f'layer{index}',
                ConvModule(
                    channels,
                    out_channels,
                    3,
                    stride=stride,
                    padding=1,
                    bias=False,
                    norm_cfg=norm_cfg,
                    act_cfg=dict(type='ReLU')))
            channels = out_channels
        self.dropout = nn.Dropout(dropout)
        # An 8x8 conv on the 8x8 map: a fully connected layer to the
        # descriptor, followed by BN (no ReLU).
        self.layer7 = ConvModule(
            channels,
            descriptor_dim,
            patch_size // 4,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def init_weights(self):
        super().init_weights()
        if self.init_cfg is None:
            # HardNet: orthogonal weights with gain 0.6.
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.orthogonal_(module.weight, gain=0.6)
                    if module.bias is not None:
                        nn.init.constant_(module.bias, 0.01)

    def normalize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Standardise every patch by its own mean and standard deviation
        (computed over channels and pixels), as HardNet's ``input_norm``."""
        flat = x.flatten(1)
        mean = flat.mean(dim=1).view(-1, 1, 1, 1)
        std = flat.std(dim=1).view(-1, 1, 1, 1)
        return (x - mean) / (std + self.input_norm_eps)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != self.in_channels or tuple(
                x.shape[2:]) != (self.patch_size, self.patch_size):
            raise ValueError(f'L2Net: expected input (B, {self.in_channels}, '
                             f'{self.patch_size}, {self.patch_size}), got '
                             f'{tuple(x.shape)}')
        x = self.normalize_input(x)
        for index in range(1, len(ARCH) + 1):
            x = getattr(self, f'layer{index}')(x)
        x = self.layer7(self.dropout(x))
        return (F.normalize(x.flatten(1), dim=1), )
