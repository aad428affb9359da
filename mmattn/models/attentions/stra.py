"""Structure-Regularized Attention (StRA; seed 003, METHODS section 4).

StRA replaces the 3x3 conv of a ResNet bottleneck by two attentions on G
channel groups ("modes"):

* :class:`LocalAttention` (paper eq. 4): a data-dependent K x K softmax mask
  at every position aggregates the neighbours, like a dynamic 3x3 conv.
* :class:`ModeAttention` (paper eq. 2, 5, 6): each mode pools a modal vector
  ``z_g`` with a spatial soft mask ``M^g``; every position receives ``z_g``
  gated by its similarity to it, then the modal vectors interact with each
  other and are gated in a second time.

The spatial soft masks are what the diversity loss
(:class:`mmattn.models.losses.DiversityLoss`) regularises; every
:class:`ModeAttention` keeps the masks of its last forward in
``last_mode_masks`` and :func:`collect_mode_masks` gathers them from a model.
"""
import math
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models.backbones.resnet import Bottleneck

from mmattn.registry import MODELS

_GATES = ('sigmoid', 'softmax')


def _check_positive_int(owner: str, name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{owner}: {name} must be a positive int, '
                         f'got {value!r}')


def _check_divisible(owner: str, name: str, value: int, groups: int) -> None:
    if value % groups != 0:
        raise ValueError(f'{owner}: {name} ({value}) must be divisible by '
                         f'groups ({groups})')


@MODELS.register_module()
class LocalAttention(BaseModule):
    """K x K local attention with dynamic neighbour weights (paper eq. 4).

    ``a_ij = softmax_{j in N_K(i)}(omega(x_i)_j + nu(x_j))`` per mode. One
    small network predicts both terms: 1x1 group conv (C -> C/reduction) ->
    BN -> Tanh -> 1x1 group conv (-> G(1 + K^2)) -> BN. Following METHODS
    (the authors' channel layout), its first G output channels are ``nu``
    (one per mode, unfolded so that position i sees ``nu(x_j)`` of each
    neighbour j) and the remaining G*K^2 channels, read as (G, K^2), are the
    per-position neighbour logits ``omega``. The values are a bias-free 1x1
    group conv (C -> C) unfolded to the K x K neighbourhood; mode g's mask
    weights the C/G value channels of group g. Zero padding at the border,
    as a 3x3 conv would pad.

    Args:
        channels (int): Input and output channels C.
        kernel_size (int): Neighbourhood size K (odd). Defaults to 3.
        groups (int): Modes G. Defaults to 8.
        reduction (int): Hidden width C/reduction of the logit network.
            Defaults to 4.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 groups: int = 8,
                 reduction: int = 4,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        owner = 'LocalAttention'
        for name, value in (('channels', channels), ('kernel_size',
                                                     kernel_size),
                            ('groups', groups), ('reduction', reduction)):
            _check_positive_int(owner, name, value)
        if kernel_size % 2 == 0:
            raise ValueError(f'{owner}: kernel_size must be odd, '
                             f'got {kernel_size}')
        hidden = channels // reduction
        _check_divisible(owner, 'channels', channels, groups)
        if hidden < groups or hidden % groups != 0:
            raise ValueError(
                f'{owner}: channels // reduction ({hidden}) must be a '
                f'positive multiple of groups ({groups})')
        self.channels = channels
        self.kernel_size = kernel_size
        self.groups = groups
        num_logits = groups * (1 + kernel_size**2)
        self.logit_net = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, groups=groups, bias=False),
            nn.BatchNorm2d(hidden), nn.Tanh(),
            nn.Conv2d(hidden, num_logits, 1, groups=groups, bias=False),
            nn.BatchNorm2d(num_logits))
        self.value_conv = nn.Conv2d(
            channels, channels, 1, groups=groups, bias=False)

    def _unfold(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, H, W) -> (B, N, K^2, H, W): the K x K neighbours."""
        b, n, h, w = x.shape
        k = self.kernel_size
        cols = F.unfold(x, kernel_size=k, padding=k // 2)
        return cols.view(b, n, k * k, h, w)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Neighbour weights P (B, G, K^2, H, W), softmax over the K^2 axis."""
        b, c, h, w = x.shape
        if c != self.channels:
            raise ValueError(f'LocalAttention: expected {self.channels} '
                             f'input channels, got {c}')
        logits = self.logit_net(x)
        neighbour = self._unfold(logits[:, :self.groups])
        position = logits[:, self.groups:].reshape(b, self.groups,
                                                   self.kernel_size**2, h, w)
        return (position + neighbour).softmax(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        weights = self.attention_weights(x)
        values = self._unfold(self.value_conv(x)).view(b, self.groups,
                                                       c // self.groups,
                                                       self.kernel_size**2, h,
                                                       w)
        out = (weights.unsqueeze(2) * values).sum(dim=3)
        return out.reshape(b, c, h, w)


@MODELS.register_module()
class ModeAttention(BaseModule):
    """Mode attention with optional mode interaction (paper eq. 2, 5, 6).

    For each mode g (a group of C/G channels, ``x_g(i)`` its feature at
    position i):

    * spatial soft mask ``M^g = softmax_HW(BN(gconv(Tanh(BN(gconv(x))))))``,
      a distribution over the H x W positions;
    * modal vector ``z_g = sum_i M^g(i) x_g(i)``;
    * gate ``r_g(i) = sigma(BN(<x_g(i), z_g>))``, sigma the sigmoid (default;
      each mode independently) or a softmax over the G modes (every position
      picks a mode; paper table 3b);
    * ``y_g(i) = x_g(i) + r_g(i) z_g``.

    With ``mode_interaction`` (paper eq. 6) the modal vectors exchange
    information, ``z'_g = sum_j softmax_j(sqrt(G) * Rn_gj) z_j`` where
    ``Rn`` is the Gram matrix ``<z_g, z_j>`` with each row L2-normalised
    (METHODS: "normalised, scaled by sqrt(G)"), and a second gated add
    follows, gated against the updated feature:
    ``y_g(i) += sigma(BN'(<y_g(i), z'_g>)) z'_g``.

    Args:
        channels (int): Input and output channels C.
        groups (int): Modes G. Defaults to 8.
        gate (str): ``'sigmoid'`` or ``'softmax'``. Defaults to 'sigmoid'.
        mode_interaction (bool): Add the interaction step (paper table 3a,
            "Mode Attention/wo" is ``False``). Defaults to True.
        mask_hidden_per_group (int): Hidden channels per mode of the mask
            network. Defaults to 8.
        init_cfg (dict, optional): Initialisation config.

    Attributes:
        last_mode_masks (Tensor | None): The masks M of the last forward,
            (B, G, H*W), each row summing to 1; input of the diversity loss.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 channels: int,
                 groups: int = 8,
                 gate: str = 'sigmoid',
                 mode_interaction: bool = True,
                 mask_hidden_per_group: int = 8,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        owner = 'ModeAttention'
        for name, value in (('channels', channels), ('groups', groups),
                            ('mask_hidden_per_group', mask_hidden_per_group)):
            _check_positive_int(owner, name, value)
        _check_divisible(owner, 'channels', channels, groups)
        if gate not in _GATES:
            raise ValueError(f'{owner}: gate must be one of {_GATES}, '
                             f'got {gate!r}')
        self.channels = channels
        self.groups = groups
        self.gate = gate
        self.mode_interaction = mode_interaction
        hidden = groups * mask_hidden_per_group
        self.mask_net = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, groups=groups, bias=False),
            nn.BatchNorm2d(hidden), nn.Tanh(),
            nn.Conv2d(hidden, groups, 1, groups=groups, bias=False),
            nn.BatchNorm2d(groups))
        self.gate_norm = nn.BatchNorm2d(groups)
        self.interaction_gate_norm = (
            nn.BatchNorm2d(groups) if mode_interaction else None)
        self.last_mode_masks: Optional[torch.Tensor] = None

    def _gated(self, feats: torch.Tensor, modal: torch.Tensor,
               norm: nn.BatchNorm2d, spatial_size) -> torch.Tensor:
        """``r * z`` for features (B, G, C/G, HW) and modal vectors
        (B, G, C/G)."""
        b = feats.shape[0]
        logits = torch.einsum('bgcn,bgc->bgn', feats, modal)
        logits = norm(logits.reshape(b, self.groups, *spatial_size))
        if self.gate == 'sigmoid':
            gate = logits.sigmoid()
        else:
            gate = logits.softmax(dim=1)
        return gate.reshape(b, self.groups, 1, -1) * modal.unsqueeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if c != self.channels:
            raise ValueError(f'ModeAttention: expected {self.channels} '
                             f'input channels, got {c}')
        masks = self.mask_net(x).reshape(b, self.groups, h * w).softmax(-1)
        self.last_mode_masks = masks
        feats = x.reshape(b, self.groups, c // self.groups, h * w)
        modal = torch.einsum('bgn,bgcn->bgc', masks, feats)
        y = feats + self._gated(feats, modal, self.gate_norm, (h, w))
        if self.mode_interaction:
            affinity = F.normalize(modal @ modal.transpose(1, 2), dim=2)
            affinity = (affinity * math.sqrt(self.groups)).softmax(dim=2)
            modal = affinity @ modal
            y = y + self._gated(y, modal, self.interaction_gate_norm, (h, w))
        return y.reshape(b, c, h, w)


@MODELS.register_module()
class StructureRegularizedAttention(BaseModule):
    """StRA block: :class:`LocalAttention` then :class:`ModeAttention`.

    A drop-in replacement of a stride-1 3x3 conv with equal input and output
    channels (the conv2 of a ResNet bottleneck; the paper replaces those of
    ResNet-50's last stage, with last stride 1). Use :meth:`from_module` to
    build one in place of an existing ``nn.Conv2d``.

    Args:
        in_channels (int): Channels C.
        out_channels (int, optional): Must equal ``in_channels`` when given
            (accepted so that conv-style configs work).
        groups (int): Modes G. Defaults to 8 (paper table 3d).
        kernel_size (int): Local attention size K. Defaults to 3 (table 3c).
        reduction (int): Hidden ratio of the local logit network.
            Defaults to 4.
        gate (str): Mode gate, ``'sigmoid'`` or ``'softmax'`` (table 3b).
        mode_interaction (bool): Mode interaction (table 3a). Defaults to True.
        use_mode_attention (bool): ``False`` keeps the local attention only
            (table 3a "Local Attention"). Defaults to True.
        mask_hidden_per_group (int): See :class:`ModeAttention`.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 groups: int = 8,
                 kernel_size: int = 3,
                 reduction: int = 4,
                 gate: str = 'sigmoid',
                 mode_interaction: bool = True,
                 use_mode_attention: bool = True,
                 mask_hidden_per_group: int = 8,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if out_channels is not None and out_channels != in_channels:
            raise ValueError(
                'StructureRegularizedAttention: out_channels '
                f'({out_channels}) must equal in_channels ({in_channels}); '
                'StRA keeps the channel count of the conv it replaces')
        self.in_channels = in_channels
        self.out_channels = in_channels
        self.local_attention = LocalAttention(
            in_channels,
            kernel_size=kernel_size,
            groups=groups,
            reduction=reduction)
        self.mode_attention = ModeAttention(
            in_channels,
            groups=groups,
            gate=gate,
            mode_interaction=mode_interaction,
            mask_hidden_per_group=mask_hidden_per_group
        ) if use_mode_attention else None

    @property
    def last_mode_masks(self) -> Optional[torch.Tensor]:
        """Mode masks (B, G, H*W) of the last forward (None without mode
        attention or before the first forward)."""
        if self.mode_attention is None:
            return None
        return self.mode_attention.last_mode_masks

    @classmethod
    def from_module(cls, conv: nn.Module,
                    **kwargs) -> 'StructureRegularizedAttention':
        """Build a StRA block that can replace ``conv``.

        Args:
            conv (nn.Conv2d): A conv with stride 1, one group and equal
                input and output channels (e.g. ``layer4.0.conv2`` of a
                ResNet-50 with ``strides=(1, 2, 2, 1)``).
            **kwargs: Other arguments of the class.

        Returns:
            StructureRegularizedAttention: On the device and dtype of
            ``conv``'s weight.
        """
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                'StructureRegularizedAttention.from_module: expected an '
                f'nn.Conv2d, got {type(conv).__name__}')
        if conv.in_channels != conv.out_channels:
            raise ValueError(
                'StructureRegularizedAttention.from_module: the conv maps '
                f'{conv.in_channels} -> {conv.out_channels} channels; StRA '
                'needs equal input and output channels')
        if tuple(conv.stride) != (1, 1):
            raise ValueError(
                'StructureRegularizedAttention.from_module: the conv has '
                f'stride {tuple(conv.stride)}; StRA only replaces stride-1 '
                'convs (use last stride 1, e.g. ResNet strides=(1, 2, 2, 1))')
        if conv.groups != 1:
            raise ValueError(
                'StructureRegularizedAttention.from_module: grouped convs '
                f'(groups={conv.groups}) are not replaced')
        for key in ('in_channels', 'out_channels'):
            given = kwargs.pop(key, None)
            if given is not None and given != conv.in_channels:
                raise ValueError(
                    f'StructureRegularizedAttention.from_module: {key}='
                    f'{given} disagrees with the conv ({conv.in_channels} '
                    'channels)')
        module = cls(conv.in_channels, **kwargs)
        return module.to(device=conv.weight.device, dtype=conv.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.local_attention(x)
        if self.mode_attention is not None:
            x = self.mode_attention(x)
        return x


def collect_mode_masks(model: nn.Module) -> List[torch.Tensor]:
    """Mode masks of the last forward of every mode attention in ``model``.

    Args:
        model (nn.Module): Any module containing :class:`ModeAttention`
            blocks (directly or inside :class:`StructureRegularizedAttention`).

    Returns:
        list[Tensor]: One (B, G, H*W) tensor per block that has run, in module
        order; the input of :class:`mmattn.models.losses.DiversityLoss`.
    """
    return [
        m.last_mode_masks for m in model.modules()
        if isinstance(m, ModeAttention) and m.last_mode_masks is not None
    ]


@MODELS.register_module()
class StRABottleneck(Bottleneck):
    """mmpretrain ResNet bottleneck whose 3x3 conv is a StRA block.

    Everything but ``conv2`` is mmpretrain's :class:`Bottleneck` (conv1 ->
    BN -> ReLU -> StRA -> BN -> ReLU -> conv3 -> BN, + shortcut). The block
    must have a stride-1 conv2 (``stride=1``, or ``style='caffe'`` where the
    stride sits in conv1).

    Note:
        Stock mmpretrain ``ResNet`` picks its block class by depth, so to put
        StRA into a stock ResNet-50 use the injection utility's ``replace``
        mode on ``layer4.*.conv2`` with
        :meth:`StructureRegularizedAttention.from_module`; this class is for
        stages built block by block.

    Args:
        in_channels (int): Input channels of the block.
        out_channels (int): Output channels of the block.
        stra_cfg (dict, optional): Keyword arguments of
            :class:`StructureRegularizedAttention` (groups, gate, ...).
        **kwargs: Other arguments of mmpretrain's ``Bottleneck``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stra_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        if self.conv2_stride != 1:
            raise ValueError(
                f'StRABottleneck: conv2 would have stride {self.conv2_stride};'
                ' StRA needs stride 1 (use stride=1 or style="caffe")')
        self.conv2 = StructureRegularizedAttention(self.mid_channels,
                                                   **(stra_cfg or {}))
