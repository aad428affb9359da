"""Self-attention exactly as seed 002 writes it (its eq. 1-2), the "SA" rows.

Seed 002 compares its compressed self-attention with the original one inside
the same framework: "we just replace CSA with SA ... without changing other
settings". Its SA is

    O_i = sum_j f(I_i, I_j) W_g I_j,                           (eq. 1)
    f(I_i, I_j) = softmax_j(I_i^T W_theta^T W_phi I_j),        (eq. 2)

with W_theta, W_phi in R^{C' x C} and W_g in R^{C x C}, all 1x1 convs, and
the block output is combined with the input like CSA's (eq. 7):
``out = alpha * O + I``, alpha learnable and initialised to 0. This differs
from :class:`NonLocalAttention` (the non-local block of seeds 000/001) in
three ways: the value keeps all C channels (no C/2 embedding and no output
projection), the logits are not scaled by 1/sqrt(d), and the residual is
weighted by alpha instead of a zero-initialised BN.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .non_local import _check_positive_int, check_feature_map, feature_tokens


@MODELS.register_module()
class SelfAttention2d(BaseModule):
    """Seed 002's self-attention block (eq. 1-2, output as eq. 7).

    Args:
        in_channels (int): Channels C of the input (and output).
        qk_channels (int, optional): Embedding channels C' of the query and
            key. Seed 002 does not state C'; the default ``C // 8`` is that
            of SAGAN (Zhang et al. 2018), the vision SA it cites. Defaults to
            None (``max(C // 8, 1)``).
        alpha_init (float): Initial residual weight alpha; 0 makes the block
            start as the identity. Defaults to 0.
        learnable_alpha (bool): Learn alpha. Defaults to True.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W). The HW x HW attention is computed by
        ``F.scaled_dot_product_attention`` (memory-efficient kernels where
        available); its cost is O(C HW^2), which is what CSA avoids.
    """

    def __init__(self,
                 in_channels: int,
                 qk_channels: Optional[int] = None,
                 alpha_init: float = 0.0,
                 learnable_alpha: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('SelfAttention2d: in_channels', in_channels)
        if qk_channels is None:
            qk_channels = max(in_channels // 8, 1)
        _check_positive_int('SelfAttention2d: qk_channels', qk_channels)
        self.in_channels = in_channels
        self.qk_channels = qk_channels
        self.query_conv = nn.Conv2d(in_channels, qk_channels, 1)  # W_theta
        self.key_conv = nn.Conv2d(in_channels, qk_channels, 1)  # W_phi
        self.value_conv = nn.Conv2d(in_channels, in_channels, 1)  # W_g
        alpha = torch.full((1, ), float(alpha_init))
        if learnable_alpha:
            self.alpha = nn.Parameter(alpha)
        else:
            self.register_buffer('alpha', alpha)

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """The attention maps f(I_i, I_j) of eq. 2 (for analysis only).

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            Tensor: (B, HW, HW), row i the softmax over j.
        """
        check_feature_map(x, self.in_channels, type(self).__name__)
        query = self.query_conv(x).flatten(2)  # (B, C', HW)
        key = self.key_conv(x).flatten(2)
        return (query.transpose(1, 2) @ key).softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_feature_map(x, self.in_channels, type(self).__name__)
        b, c, h, w = x.shape
        # (B, 1, HW, channels): one head.
        query = feature_tokens(self.query_conv(x))
        key = feature_tokens(self.key_conv(x))
        value = feature_tokens(self.value_conv(x))
        # eq. 2 has no 1/sqrt(C') scaling.
        y = F.scaled_dot_product_attention(query, key, value, scale=1.0)
        y = y.squeeze(1).transpose(1, 2).reshape(b, c, h, w)
        return self.alpha * y + x
