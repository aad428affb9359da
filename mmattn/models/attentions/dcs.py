"""DCS: Differentiable Channel Selection attention (seed 001).

A per-token binary mask selects the query/key channels that enter the
attention weights; the value is not masked (METHODS.md section 2, the mask
formulation is **reconstructed**)::

    logits = Linear(C, C)(X)                                  (B, N, C)
             (or the rank-h factorisation Linear(h, C)(Linear(C, h)(X)))
    train: M = 1[soft > 0.5] + soft - soft.detach(),
           soft = sigmoid((logits + log U - log(1 - U)) / tau), U ~ U(0, 1)
    eval:  M = 1[logits > 0]
    A = softmax((Q * M)(K * M)^T / sqrt(d)),  out = A V

:class:`DCSAttention` is the CNN form (a residual non-local block after a
stage, Q = K = V = X); :class:`DCSViTAttention` replaces the
``MultiheadAttention`` of an mmpretrain ``VisionTransformer`` block, with the
mask split per head.
"""
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models.utils.attention import MultiheadAttention

from mmattn.registry import MODELS
from .da import linear_affinity_aggregate
from .non_local import ZeroInitProjection, check_feature_map, feature_tokens


class _StraightThrough(torch.autograd.Function):
    """Forward ``1[soft > 0.5]`` exactly; backward the gradient of ``soft``."""

    @staticmethod
    def forward(ctx, soft):
        return (soft > 0.5).to(soft.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


@MODELS.register_module()
class GumbelChannelMask(BaseModule):
    """Input-dependent binary channel mask with a binary Gumbel relaxation.

    In training the mask is a hard {0, 1} sample whose gradient is that of
    the relaxed (concrete) sample (straight-through estimator); in eval mode
    it is ``1[logits > 0]``, deterministic. ``tau`` is a plain attribute that
    a temperature hook may anneal.

    The logits are "a linear layer on X" (seed 001): a full
    ``Linear(in_channels, out_channels)`` (``in * out`` weights, 4.2 M at a
    2048-channel ResNet stage), or with ``hidden_channels=h`` the same linear
    map factorised at rank h, ``Linear(h, out)(Linear(in, h, bias=False)(X))``
    (``h * (in + out)`` weights), the form whose parameter counts reproduce
    seed 001 table I for ResNet-50, OSNet and TransReID.

    Args:
        in_channels (int): Channels of the tokens the mask is computed from.
        out_channels (int, optional): Channels of the mask. Defaults to
            ``in_channels``.
        hidden_channels (int, optional): Rank h of the factorised generator;
            None is the full ``Linear(in_channels, out_channels)``.
            Defaults to None.
        tau (float): Gumbel temperature. Defaults to 1.0.
        bias_init (float): Initial bias of the logits; +3 starts with nearly
            every channel selected. Defaults to 3.0.
        eps (float): Clamp of the uniform noise away from 0 and 1.
            Defaults to 1e-6.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (..., in_channels) -> mask (..., out_channels).
    """

    def __init__(self,
                 in_channels,
                 out_channels=None,
                 hidden_channels=None,
                 tau=1.0,
                 bias_init=3.0,
                 eps=1e-6,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        out_channels = in_channels if out_channels is None else out_channels
        checked = [('in_channels', in_channels),
                   ('out_channels', out_channels)]
        if hidden_channels is not None:
            checked.append(('hidden_channels', hidden_channels))
        for name, value in checked:
            if isinstance(value,
                          bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'{name} must be a positive int, got {value!r}')
        if not float(tau) > 0:
            raise ValueError(f'tau must be > 0, got {tau!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.tau = float(tau)
        self.bias_init = float(bias_init)
        self.eps = eps
        if hidden_channels is None:
            self.reduce = None
            self.fc = nn.Linear(in_channels, out_channels)
        else:
            self.reduce = nn.Linear(in_channels, hidden_channels, bias=False)
            self.fc = nn.Linear(hidden_channels, out_channels)
        nn.init.constant_(self.fc.bias, self.bias_init)

    def init_weights(self):
        super().init_weights()
        # Keep the "start with all channels selected" bias even when a
        # parent's blanket Linear init reached this layer.
        nn.init.constant_(self.fc.bias, self.bias_init)

    def logits(self, x):
        """The mask logits, (..., in_channels) -> (..., out_channels)."""
        if self.reduce is not None:
            x = self.reduce(x)
        return self.fc(x)

    def relaxed(self, logits, noise):
        """The binary concrete sample ``sigmoid((logits + log U - log(1-U)) /
        tau)`` for uniform noise ``U`` (same shape as ``logits``)."""
        noise = noise.clamp(self.eps, 1 - self.eps)
        return torch.sigmoid(
            (logits + torch.log(noise) - torch.log1p(-noise)) / self.tau)

    def forward(self, x, noise=None):
        """Compute the mask.

        Args:
            x (Tensor): Tokens, (..., in_channels).
            noise (Tensor, optional): Uniform noise for the training sample
                (drawn when None); ignored in eval mode.

        Returns:
            Tensor: {0, 1} mask, (..., out_channels).
        """
        logits = self.logits(x)
        if not self.training:
            return (logits > 0).to(logits.dtype)
        if noise is None:
            noise = torch.rand_like(logits)
        # = 1[soft > 0.5] + soft - soft.detach(), without its rounding error
        return _StraightThrough.apply(self.relaxed(logits, noise))


@MODELS.register_module()
class DCSAttention(BaseModule):
    """DCS attention for CNN feature maps (DCS-FB after each stage).

    The non-local block of DA with the channel window replaced by the
    per-token mask: with tokens ``X`` (HW x C) and mask ``M``,
    ``f = softmax((X * M)(X * M)^T / sqrt(C)) X`` and
    ``out = X + BN0(DWConv3x3(f))``.

    Args:
        in_channels (int): Channels C of the input.
        affinity (str): ``'softmax'`` (the DCS formula above, forms the
            HW x HW weights inside the fused attention kernel) or ``'dot'``
            (DA's normalisation ``f = R X / HW`` with
            ``R = (X * M)(X * M)^T``, computed without the HW x HW matrix).
            Defaults to ``'softmax'``.
        tau (float): Initial Gumbel temperature of the mask. Defaults to 1.0.
        mask_bias_init (float): Initial bias of the mask logits.
            Defaults to 3.0.
        mask_hidden_channels (int, optional): Rank of the factorised mask
            generator (see :class:`GumbelChannelMask`); None is the full
            C x C ``Linear``. Defaults to None.
        norm_cfg (dict): Normalisation of the output projection. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 affinity='softmax',
                 tau=1.0,
                 mask_bias_init=3.0,
                 mask_hidden_channels=None,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if affinity not in ('softmax', 'dot'):
            raise ValueError(
                f"affinity must be 'softmax' or 'dot', got {affinity!r}")
        self.in_channels = in_channels
        self.affinity = affinity
        self.mask = GumbelChannelMask(
            in_channels,
            hidden_channels=mask_hidden_channels,
            tau=tau,
            bias_init=mask_bias_init)
        self.out_proj = ZeroInitProjection(
            in_channels,
            in_channels,
            kernel_size=3,
            groups=in_channels,
            norm_cfg=norm_cfg)

    def arch_parameters(self):
        """The mask's parameters (the "attention parameters" that DCS-DNAS
        trains on the architecture split)."""
        return list(self.mask.parameters())

    def forward(self, x):
        check_feature_map(x, self.in_channels, type(self).__name__)
        B, C, H, W = x.shape
        x_flat = x.flatten(2)  # (B, C, N)
        tokens = feature_tokens(x_flat).squeeze(1)  # (B, N, C), contiguous
        selected = tokens * self.mask(tokens).to(tokens.dtype)
        if self.affinity == 'softmax':
            f = F.scaled_dot_product_attention(
                selected.unsqueeze(1),
                selected.unsqueeze(1),
                tokens.unsqueeze(1),
                scale=1.0 / math.sqrt(C)).squeeze(1).transpose(1, 2)
        else:
            selected = selected.transpose(1, 2)
            f = linear_affinity_aggregate(x_flat, selected, selected)
        return x + self.out_proj(f.reshape(B, C, H, W))


@MODELS.register_module()
class DCSViTAttention(MultiheadAttention):
    """DCS attention replacing mmpretrain's ``MultiheadAttention``.

    Same constructor and sub-modules (``qkv``, ``proj``, ...) as
    :class:`mmpretrain.models.utils.attention.MultiheadAttention`, so a
    pretrained ViT's weights load unchanged; a :class:`GumbelChannelMask`
    (``input_dims -> embed_dims``, split per head) masks queries and keys.
    :meth:`from_attention` converts an existing module, weights included.

    Args:
        embed_dims (int): The embedding dimension.
        num_heads (int): Parallel attention heads.
        input_dims (int, optional): Input dimension; None means
            ``embed_dims``.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection.
            Defaults to 0.
        dropout_layer (dict): Dropout before the shortcut. Defaults to
            ``dict(type='Dropout', drop_prob=0.)``.
        qkv_bias (bool): Bias of the qkv projection. Defaults to True.
        qk_scale (float, optional): Scale of the logits; None means
            ``head_dims ** -0.5``.
        proj_bias (bool): Bias of the output projection. Defaults to True.
        v_shortcut (bool): Add a shortcut from the value. Defaults to False.
        use_layer_scale (bool): Deprecated layer-scale switch of the parent.
            Defaults to False.
        layer_scale_init_value (float): Layer scale init; 0 disables it.
            Defaults to 0.
        tau (float): Initial Gumbel temperature. Defaults to 1.0.
        mask_bias_init (float): Initial bias of the mask logits.
            Defaults to 3.0.
        mask_hidden_channels (int, optional): Rank of the factorised mask
            generator (see :class:`GumbelChannelMask`); None is the full
            ``Linear(input_dims, embed_dims)``. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, N, input_dims) -> (B, N, embed_dims).
    """

    def __init__(self,
                 embed_dims,
                 num_heads,
                 input_dims=None,
                 attn_drop=0.,
                 proj_drop=0.,
                 dropout_layer=dict(type='Dropout', drop_prob=0.),
                 qkv_bias=True,
                 qk_scale=None,
                 proj_bias=True,
                 v_shortcut=False,
                 use_layer_scale=False,
                 layer_scale_init_value=0.,
                 tau=1.0,
                 mask_bias_init=3.0,
                 mask_hidden_channels=None,
                 init_cfg=None):
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible '
                             f'by num_heads ({num_heads})')
        super().__init__(
            embed_dims,
            num_heads,
            input_dims=input_dims,
            attn_drop=attn_drop,
            proj_drop=proj_drop,
            dropout_layer=dropout_layer,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            proj_bias=proj_bias,
            v_shortcut=v_shortcut,
            use_layer_scale=use_layer_scale,
            layer_scale_init_value=layer_scale_init_value,
            init_cfg=init_cfg)
        self.scale = self.head_dims**-0.5 if qk_scale is None else qk_scale
        self.mask = GumbelChannelMask(
            self.input_dims,
            embed_dims,
            hidden_channels=mask_hidden_channels,
            tau=tau,
            bias_init=mask_bias_init)

    @classmethod
    def from_attention(cls, attention, **kwargs):
        """Build from an mmpretrain ``MultiheadAttention``, copying weights.

        Args:
            attention (MultiheadAttention): The module to replace.
            **kwargs: Extra arguments of this class (``tau``,
                ``mask_bias_init``, ``mask_hidden_channels``, ``init_cfg``).

        Returns:
            DCSViTAttention: Equal to ``attention`` when every mask entry is 1.
        """
        if not isinstance(attention, MultiheadAttention):
            raise TypeError('from_attention expects an mmpretrain '
                            'MultiheadAttention, got '
                            f'{type(attention).__name__}')
        # The parent applies head_dims ** -0.5 whatever its qk_scale, so the
        # default scale reproduces it.
        module = cls(
            attention.embed_dims,
            attention.num_heads,
            input_dims=attention.input_dims,
            attn_drop=attention.attn_drop,
            qkv_bias=attention.qkv.bias is not None,
            proj_bias=attention.proj.bias is not None,
            v_shortcut=attention.v_shortcut,
            **kwargs)
        module.qkv.load_state_dict(attention.qkv.state_dict())
        module.proj.load_state_dict(attention.proj.state_dict())
        module.proj_drop = copy.deepcopy(attention.proj_drop)
        module.out_drop = copy.deepcopy(attention.out_drop)
        module.gamma1 = copy.deepcopy(attention.gamma1)
        return module.to(attention.qkv.weight.device)

    def arch_parameters(self):
        """The mask's parameters."""
        return list(self.mask.parameters())

    def forward(self, x):
        B, N, _ = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]  # (B, heads, N, d)
        mask = self.mask(x).to(query.dtype).reshape(B, N, self.num_heads,
                                                    self.head_dims).transpose(
                                                        1, 2)
        attn_drop = self.attn_drop if self.training else 0.
        x = F.scaled_dot_product_attention(
            query * mask,
            key * mask,
            value,
            dropout_p=attn_drop,
            scale=self.scale)
        x = x.transpose(1, 2).reshape(B, N, self.embed_dims)
        x = self.proj(x)
        x = self.out_drop(self.gamma1(self.proj_drop(x)))
        if self.v_shortcut:
            x = value.squeeze(1) + x
        return x
