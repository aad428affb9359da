"""Squeeze-and-Excitation channel attention (baseline of seed 004, and one of
the HOGA primitives)."""
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')


@MODELS.register_module()
class SEAttention(BaseModule):
    """Squeeze-and-Excitation: ``x * sigmoid(FC(ReLU(FC(GAP(x)))))``.

    Args:
        in_channels (int): Channels C of the input.
        reduction (int): The hidden layer has ``C // reduction`` channels.
            Defaults to 16.
        min_channels (int): Lower bound of the hidden channels, so small
            inputs (e.g. a HOGA channel group) keep a hidden layer.
            Defaults to 1.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 reduction=16,
                 min_channels=1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('in_channels', in_channels)
        _check_positive_int('reduction', reduction)
        _check_positive_int('min_channels', min_channels)
        self.in_channels = in_channels
        hidden = max(in_channels // reduction, min_channels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(in_channels, hidden, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, in_channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        weight = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))
        return x * weight
