"""The BN-Dropout-FC-BN face embedding (ArcFace's output layer "E")."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS


@MODELS.register_module()
class FaceEmbeddingNeck(BaseModule):
    """Map the last feature map to a D-dimensional face embedding.

    ``BatchNorm2d -> Dropout -> flatten -> Linear -> BatchNorm1d`` (seed 003
    section 5.2, taken from ArcFace). Unlike global pooling, the FC sees the
    whole (C, H, W) map, so it keeps where on the aligned face a pattern is;
    this is why face models fix the input size (112 x 112 -> 7 x 7 at the
    last stage). The final BN's scale is frozen at 1 as in ArcFace: the
    margin heads normalise the embedding anyway, and a learnable scale
    only rescales the softmax head's logits.

    Args:
        in_channels (int): C of the last backbone output.
        feature_size (tuple[int, int] | None): (H, W) of that output; the FC
            then has ``C * H * W`` inputs. ``None`` averages the map over
            space first (an FC of C inputs, for any input size).
        embed_dim (int): Embedding size D. Defaults to 512.
        dropout (float): Dropout probability. Defaults to 0.4 (ArcFace).
        init_cfg (dict | list, optional): Initialisation config.

    Shapes:
        input: a tuple of backbone outputs, the last one (B, C, H, W).
        output: a 1-tuple with the embedding (B, D).
    """

    def __init__(self,
                 in_channels: int,
                 feature_size: Optional[Sequence[int]] = (7, 7),
                 embed_dim: int = 512,
                 dropout: float = 0.4,
                 init_cfg: Union[dict, list, None] = None):
        super().__init__(init_cfg=init_cfg)
        for key, value in (('in_channels', in_channels), ('embed_dim',
                                                          embed_dim)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value < 1:
                raise ValueError(f'FaceEmbeddingNeck: {key} must be a '
                                 f'positive int, got {value!r}')
        if feature_size is not None:
            feature_size = tuple(feature_size)
            if len(feature_size) != 2 or any(not isinstance(v, int) or v < 1
                                             for v in feature_size):
                raise ValueError(
                    'FaceEmbeddingNeck: feature_size must be None or two '
                    f'positive ints (H, W), got {feature_size!r}')
        if not 0 <= dropout < 1:
            raise ValueError('FaceEmbeddingNeck: dropout must be in [0, 1), '
                             f'got {dropout!r}')
        self.in_channels = in_channels
        self.feature_size = feature_size
        self.embed_dim = embed_dim
        fc_in = in_channels
        if feature_size is not None:
            fc_in *= feature_size[0] * feature_size[1]
        self.bn_in = nn.BatchNorm2d(in_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(fc_in, embed_dim)
        self.bn_out = nn.BatchNorm1d(embed_dim)
        self.bn_out.weight.requires_grad_(False)

    def forward(
        self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor]:
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'FaceEmbeddingNeck: expected a (B, {self.in_channels}, H, '
                f'W) feature map, got {tuple(x.shape)}')
        if (self.feature_size is not None
                and tuple(x.shape[-2:]) != self.feature_size):
            raise ValueError(
                f'FaceEmbeddingNeck: feature map is {tuple(x.shape[-2:])}, '
                f'configured feature_size is {self.feature_size}; set '
                'feature_size to the last stage size of your input (e.g. '
                '(7, 7) for 112 x 112 with last stride 1) or None to pool')
        x = self.dropout(self.bn_in(x))
        x = x.flatten(1) if self.feature_size is not None else x.mean((2, 3))
        return (self.bn_out(self.fc(x)), )
