"""FBNetV2 channel-search supernet (Base / Large / XLarge) and its subnets.

The supernet of seed 000 (tables 6-7) and seed 001 (tables III-IV),
METHODS.md section 6: inverted-residual blocks (3x3 depthwise) whose output
width and expansion ratio are each chosen among ``(low, high, step)``
options by a Gumbel-softmax with feature-map reuse. Every block runs its
convolutions once at the largest width and multiplies the result by the
mask ``sum_i g_i m_i``, where ``m_i`` keeps the first ``c_i`` channels; the
expected cost is the FLOPs of the widths ``sum_i g_i c_i`` chained block to
block. :meth:`FBNetV2Supernet.derive_subnet` keeps the argmax option of every
block and materialises only the kept channels (:class:`FBNetV2Subnet`).

Conventions (the tables leave them open):

- The expansion ratio is relative to the block's *largest* input width, so
  the hidden options are ``round(e_j * C_in_max)`` channels and the hidden
  mask does not depend on the previous block's choice.
- A block has a shortcut when its stride is 1 and its input and output
  option sets have the same largest width; the sum is masked to the block's
  output width (so the shortcut is zero-padded or truncated in the subnet).
- A block with the single expansion option 1 has no expansion conv
  (MobileNetV2's ``t = 1`` block); its input width must be fixed.
- Costs are multiply-accumulates of the convolutions (the "FLOPs" of the
  seed tables); BN, activations and pooling are left out.
- The named supernets follow the authors' code rather than the seed tables
  where the two differ (see :class:`FBNetV2Supernet`): only the authors'
  depths, their expansion 6 and their ``ir_pool`` head reach the sizes of
  the searched models the seeds report.
"""
import copy
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone

from mmattn.registry import MODELS
from ..injection import ModuleWithAttention

# Expansion-ratio option sets of the seed tables, (low, high, step).
_E_SMALL = (0.75, 3.25, 0.5)
_E_WIDE = (0.75, 4.5, 0.75)
_E_DEEP = (0.75, 6.25, 0.5)
_E_DEEP_WIDE = (0.75, 7.5, 0.75)
# The expansion ratio of every block of the authors' supernets (mobile_cv
# ``_ex(6)``, also the 1x1 expansion of their ``ir_pool`` head).
AUTHORS_EXPANSION = 6.0


def with_authors_expansion(spec) -> dict:
    """The table's options ``(low, high, step)`` plus the authors' ratio 6,
    as an explicit ``dict(options=[...])`` entry."""
    values = set(expand_options(spec, 'e', integer=False))
    values.add(AUTHORS_EXPANSION)
    return dict(options=sorted(values))


def _arch(expands, rows):
    """Stages of ``[e, f, n, s]`` rows from ``(e_index, f, n, s)`` rows.

    ``expands``: the two expansion entries (rows of the 16-28 ... 48-96
    option sets take the first, the 72-128 and 112-216 rows the second);
    ``rows``: per stage ``(k, f, n, s)`` with ``k`` 0, 1 or None (the fixed
    ``e = 1`` first block).
    """
    return dict(
        stages=[[[1 if k is None else expands[k], f, n, s]
                 for k, f, n, s in stage] for stage in rows],
        stem_channels=16,
        head_channels=1984,
        head_type='pool',
        head_expand=AUTHORS_EXPANSION)


def round_half_up(value: float) -> int:
    """Nearest integer with halves rounded up (``round`` rounds to even)."""
    return int(math.floor(value + 0.5))


def expand_options(spec, name: str, integer: bool) -> List:
    """Options of a table entry: a fixed value, ``(low, high, step)`` or
    ``dict(options=[...])`` (an explicit list).

    Args:
        spec (int | float | Sequence | dict): The entry.
        name (str): Its name, for error messages.
        integer (bool): Whether the options must be integers (channels).

    Returns:
        list: The options in increasing order.
    """
    if isinstance(spec, bool):
        raise TypeError(f'{name} must be a number, (low, high, step) or '
                        f'dict(options=[...]), got {spec!r}')
    if isinstance(spec, dict):
        values = spec.get('options')
        if set(spec) != {
                'options'
        } or not isinstance(values, (list, tuple)) or not values or any(
                isinstance(v, bool) or not isinstance(v, (int, float))
                for v in values):
            raise TypeError(f'{name}: dict(options=[...]) needs a non-empty '
                            f'list of numbers, got {spec!r}')
        values = sorted(set(values))
    elif isinstance(spec, (int, float)):
        values = [spec]
    elif isinstance(spec, (list, tuple)) and len(spec) == 3:
        low, high, step = spec
        if not step > 0 or not low <= high:
            raise ValueError(f'{name}: (low, high, step) = {tuple(spec)} '
                             'needs step > 0 and low <= high')
        count = int(math.floor((high - low) / step + 1e-6)) + 1
        values = [low + i * step for i in range(count)]
    else:
        raise TypeError(f'{name} must be a number, (low, high, step) or '
                        f'dict(options=[...]), got {spec!r}')
    if integer:
        if not all(float(v).is_integer() and v > 0 for v in values):
            raise ValueError(f'{name}: channel options must be positive '
                             f'integers, got {values}')
        return [int(v) for v in values]
    if not all(v > 0 for v in values):
        raise ValueError(f'{name}: expansion options must be > 0, got '
                         f'{values}')
    return [round(float(v), 6) for v in values]


def prefix_masks(widths: Sequence[int], max_width: int) -> torch.Tensor:
    """(K, max_width) 0/1 masks; row i keeps the first ``widths[i]``."""
    index = torch.arange(max_width)
    return (index[None, :] < torch.tensor(widths)[:, None]).float()


def option_weights(logits: torch.Tensor,
                   mode: str,
                   tau: float,
                   gumbels: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Weights g of the options of one choice.

    Args:
        logits (Tensor): (K, ) architecture logits.
        mode (str): ``'gumbel'`` (relaxed sample
            ``softmax((logits + G) / tau)``, G ~ Gumbel(0, 1)), ``'softmax'``
            (the noise-free relaxation ``softmax(logits / tau)``) or
            ``'argmax'`` (one-hot of the largest logit).
        tau (float): Temperature.
        gumbels (Tensor, optional): (K, ) Gumbel noise to use instead of a
            fresh sample (for reproducible gradient checks).

    Returns:
        Tensor: (K, ) non-negative weights summing to 1.
    """
    if mode == 'argmax':
        return F.one_hot(logits.argmax(), logits.numel()).to(logits.dtype)
    if mode == 'softmax':
        return F.softmax(logits / tau, dim=0)
    if mode == 'gumbel':
        if gumbels is None:
            # -log(Exp(1)) is Gumbel(0, 1).
            gumbels = -torch.empty_like(logits).exponential_().log()
        return F.softmax((logits + gumbels) / tau, dim=0)
    raise ValueError("sampling mode must be 'gumbel', 'softmax' or 'argmax', "
                     f'got {mode!r}')


def conv_out_size(size: int, stride: int) -> int:
    """Output size of a 3x3 convolution with padding 1."""
    return (size - 1) // stride + 1


class SearchableInvertedResidual(nn.Module):
    """Inverted residual block whose width and expansion are searched.

    ``expand`` (1x1 conv-BN-act, absent for a fixed expansion of 1) ->
    ``dw`` (3x3 depthwise conv-BN-act) -> ``project`` (1x1 conv-BN), run at
    the largest widths; the hidden features are multiplied by the expansion
    mask and the output (after the shortcut add) by the channel mask.

    Args:
        in_channels (int): Largest input width C_in_max.
        channel_options (Sequence[int]): Output width options c_i.
        expand_options (Sequence[float]): Expansion ratio options e_j; the
            hidden width options are ``round(e_j * in_channels)``.
        stride (int): Stride of the depthwise conv.
        residual (bool): Add the input to the output.
        norm_cfg (dict): Normalisation config.
        act_cfg (dict): Activation config.

    Shapes:
        x: (B, in_channels, H, W) -> (B, max(channel_options), H/s, W/s).
    """

    def __init__(self, in_channels: int, channel_options: Sequence[int],
                 expand_options: Sequence[float], stride: int, residual: bool,
                 norm_cfg: dict, act_cfg: dict):
        super().__init__()
        self.in_channels = in_channels
        self.channel_options = list(channel_options)
        self.expand_options = list(expand_options)
        self.out_channels = max(self.channel_options)
        self.stride = stride
        self.residual = residual
        self.with_expand = self.expand_options != [1.0]
        if self.with_expand:
            self.mid_options = [
                max(1, round_half_up(e * in_channels))
                for e in self.expand_options
            ]
        else:
            self.mid_options = [in_channels]
        self.mid_channels = max(self.mid_options)
        # Not searched here: the sampling mode and temperature are set by the
        # supernet (and a temperature hook) on every block.
        self.sampling = 'gumbel'
        self.gumbel_tau = 5.0

        if self.with_expand:
            self.expand = ConvModule(
                in_channels,
                self.mid_channels,
                1,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)
        self.dw = ConvModule(
            self.mid_channels,
            self.mid_channels,
            3,
            stride=stride,
            padding=1,
            groups=self.mid_channels,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.project = ConvModule(
            self.mid_channels,
            self.out_channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)

        # Zero logits: every option starts equally likely.
        self.channel_logits = nn.Parameter(
            torch.zeros(len(self.channel_options))) \
            if len(self.channel_options) > 1 else None
        self.expand_logits = nn.Parameter(
            torch.zeros(len(self.expand_options))) \
            if len(self.expand_options) > 1 else None
        # Rebuilt from the options, so not part of the state dict.
        self.register_buffer(
            'channel_masks',
            prefix_masks(self.channel_options, self.out_channels),
            persistent=False)
        self.register_buffer(
            'mid_masks',
            prefix_masks(self.mid_options, self.mid_channels),
            persistent=False)
        self.last_weights = None

    def arch_parameters(self) -> List[nn.Parameter]:
        """The Gumbel logits of this block (none for fixed choices)."""
        return [
            p for p in (self.channel_logits, self.expand_logits)
            if p is not None
        ]

    def choice_weights(
            self,
            mode: Optional[str] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Weights of the width and the expansion options.

        Args:
            mode (str, optional): See :func:`option_weights`, or
                ``'largest'`` / ``'smallest'`` (one-hot of the widest /
                narrowest option, whatever the logits); None uses
                ``self.sampling``.

        Returns:
            tuple[Tensor, Tensor]: (K_c, ) and (K_e, ) weights.
        """
        mode = self.sampling if mode is None else mode
        weights = []
        for logits in (self.channel_logits, self.expand_logits):
            if logits is None:
                weights.append(self.channel_masks.new_ones(1))
            elif mode in ('largest', 'smallest'):
                index = logits.numel() - 1 if mode == 'largest' else 0
                weights.append(
                    F.one_hot(torch.tensor(index),
                              logits.numel()).to(logits.dtype))
            else:
                weights.append(option_weights(logits, mode, self.gumbel_tau))
        return weights[0], weights[1]

    def __getstate__(self):
        # The last sampled weights belong to an autograd graph, which
        # copy.deepcopy (EMA, checkpoints of the module) cannot copy.
        state = self.__dict__.copy()
        state['last_weights'] = None
        return state

    def chosen(self, mode: str = 'argmax') -> Tuple[int, int, float]:
        """(out channels, hidden channels, expansion ratio) of the argmax
        (or ``'largest'`` / ``'smallest'``) option."""
        g_c, g_e = self.choice_weights(mode)
        c = self.channel_options[int(g_c.argmax())]
        j = int(g_e.argmax())
        return c, self.mid_options[j], self.expand_options[j]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g_c, g_e = self.choice_weights()
        self.last_weights = (g_c, g_e)
        # Feature-map reuse: one conv at the largest width, then the mixed
        # prefix mask sum_i g_i m_i.
        channel_mask = (g_c @ self.channel_masks)[None, :, None, None]
        h = x
        if self.with_expand:
            mid_mask = (g_e @ self.mid_masks)[None, :, None, None]
            h = self.expand(h) * mid_mask
        h = self.dw(h)
        if self.with_expand:
            # The BN bias of the depthwise conv revives masked channels.
            h = h * mid_mask
        h = self.project(h)
        if self.residual:
            h = h + x
        return h * channel_mask.to(h.dtype)


class InvertedResidual(nn.Module):
    """A plain inverted residual block of a derived subnet.

    Same module names as :class:`SearchableInvertedResidual`, so a supernet
    state dict loads after slicing to the first channels.

    Args:
        in_channels (int): Input width.
        mid_channels (int): Hidden width (equals ``in_channels`` without
            expansion conv).
        out_channels (int): Output width.
        stride (int): Stride of the depthwise conv.
        residual (bool): Add the input (zero-padded or truncated to
            ``out_channels``) to the output.
        with_expand (bool): Whether there is a 1x1 expansion conv.
        norm_cfg (dict): Normalisation config.
        act_cfg (dict): Activation config.

    Shapes:
        x: (B, in_channels, H, W) -> (B, out_channels, H/s, W/s).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 stride: int, residual: bool, with_expand: bool,
                 norm_cfg: dict, act_cfg: dict):
        super().__init__()
        if not with_expand and mid_channels != in_channels:
            raise ValueError(
                f'a block without expansion conv has mid_channels == '
                f'in_channels, got {mid_channels} and {in_channels}')
        self.in_channels = in_channels
        self.mid_channels = mid_channels
        self.out_channels = out_channels
        self.stride = stride
        self.residual = residual
        self.with_expand = with_expand
        if with_expand:
            self.expand = ConvModule(
                in_channels,
                mid_channels,
                1,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)
        self.dw = ConvModule(
            mid_channels,
            mid_channels,
            3,
            stride=stride,
            padding=1,
            groups=mid_channels,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.project = ConvModule(
            mid_channels,
            out_channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.expand(x) if self.with_expand else x
        h = self.project(self.dw(h))
        if self.residual:
            # In the supernet the missing input channels are zeros and the
            # surplus ones are masked away after the add.
            shortcut = x[:, :self.out_channels]
            if shortcut.shape[1] < self.out_channels:
                shortcut = F.pad(
                    shortcut,
                    (0, 0, 0, 0, 0, self.out_channels - shortcut.shape[1]))
            h = h + shortcut
        return h


class PoolHead(nn.Module):
    """The authors' ``ir_pool`` head (mobile_cv ``IRPoolBlock``).

    ``expand`` (1x1 conv-BN-act to ``mid_channels``) -> global average pool
    -> ``project`` (1x1 conv with bias, act, no BN) to ``out_channels``.

    Args:
        in_channels (int): Input width.
        mid_channels (int): Hidden width (``round(e * C_in_max)`` of the
            supernet, kept in its subnets).
        out_channels (int): Output width (1984).
        norm_cfg (dict): Normalisation config.
        act_cfg (dict): Activation config.

    Shapes:
        x: (B, in_channels, H, W) -> (B, out_channels, 1, 1).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 norm_cfg: dict, act_cfg: dict):
        super().__init__()
        self.in_channels = in_channels
        self.mid_channels = mid_channels
        self.out_channels = out_channels
        self.expand = ConvModule(
            in_channels,
            mid_channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.project = ConvModule(
            mid_channels,
            out_channels,
            1,
            bias=True,
            norm_cfg=None,
            act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.pool(self.expand(x)))


def head_mid_channels(head_type: str, head_expand: float,
                      last_channels: int) -> Optional[int]:
    """Hidden width of a ``'pool'`` head on ``last_channels`` (the largest
    width of the last block); None for a ``'conv'`` head."""
    if head_type == 'conv':
        return None
    return max(1, round_half_up(head_expand * last_channels))


def _conv_flops(in_size, blocks_desc, stem_channels, head, in_channels):
    """Chained MACs of stem, blocks and head.

    ``blocks_desc`` yields ``(c_out, mid, stride, with_expand)`` where the
    widths may be tensors (expected widths) or ints; the input width of a
    block is the previous block's output width. ``head``: None, or
    ``(head_type, head_channels, head_mid)``; a ``'conv'`` head is a 1x1
    conv on the last feature map, a ``'pool'`` head a 1x1 conv to
    ``head_mid`` on it and a 1x1 conv to ``head_channels`` after the global
    pooling.
    """
    h, w = in_size
    h, w = conv_out_size(h, 2), conv_out_size(w, 2)
    flops = h * w * in_channels * stem_channels * 9
    c_in = stem_channels
    for c_out, mid, stride, with_expand in blocks_desc:
        if not with_expand:
            mid = c_in
        h2, w2 = conv_out_size(h, stride), conv_out_size(w, stride)
        if with_expand:
            flops = flops + h * w * c_in * mid
        flops = flops + h2 * w2 * mid * 9 + h2 * w2 * mid * c_out
        c_in, h, w = c_out, h2, w2
    if head is not None:
        head_type, head_channels, head_mid = head
        if head_type == 'pool':
            flops = flops + h * w * c_in * head_mid + head_mid * head_channels
        else:
            flops = flops + h * w * c_in * head_channels
    return flops


class _FBNetV2Base(BaseBackbone):
    """Stem, stages ``stage1`` ... and the 1x1 head conv shared by the
    supernet and its subnets; subclasses build the blocks."""

    def _build_stem_and_head(self,
                             in_channels,
                             stem_channels,
                             head_channels,
                             last_channels,
                             norm_cfg,
                             act_cfg,
                             head_type='conv',
                             head_mid=None):
        self.stem = ConvModule(
            in_channels,
            stem_channels,
            3,
            stride=2,
            padding=1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        if not head_channels:
            self.conv_head = None
        elif head_type == 'pool':
            self.conv_head = PoolHead(last_channels, head_mid, head_channels,
                                      norm_cfg, act_cfg)
        else:
            self.conv_head = ConvModule(
                last_channels,
                head_channels,
                1,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)

    @staticmethod
    def _check_head(head_type, head_expand, where):
        if head_type not in ('conv', 'pool'):
            raise ValueError(f"{where}: head_type must be 'conv' (1x1 "
                             "conv-BN-act) or 'pool' (the authors' ir_pool "
                             f'head), got {head_type!r}')
        if head_type == 'pool' and (isinstance(head_expand, bool)
                                    or not isinstance(head_expand,
                                                      (int, float))
                                    or not head_expand > 0):
            raise ValueError(f'{where}: head_expand must be a number > 0, '
                             f'got {head_expand!r}')

    def _head_desc(self):
        """``(head_type, head_channels, head_mid)`` for the cost, or None."""
        if self.conv_head is None:
            return None
        if isinstance(self.conv_head, PoolHead):
            return ('pool', self.conv_head.out_channels,
                    self.conv_head.mid_channels)
        return ('conv', self.conv_head.conv.out_channels, None)

    def _check_out_indices(self, out_indices, num_stages, has_head):
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        valid = num_stages + (1 if has_head else 0)
        out_indices = tuple(out_indices)
        if not out_indices or any(not isinstance(i, int) or not 0 <= i < valid
                                  for i in out_indices):
            raise ValueError(
                f'out_indices must be non-empty ints in [0, {valid - 1}] '
                f'(0..{num_stages - 1} = stage1..stage{num_stages}' +
                (f', {num_stages} = conv_head' if has_head else '') +
                f'), got {out_indices!r}')
        return out_indices

    @property
    def stage_names(self) -> List[str]:
        return [f'stage{i + 1}' for i in range(self.num_stages)]

    def stage_blocks(self, index: int) -> List[nn.Module]:
        """Blocks of stage ``index`` (0-based), under any injected
        attention wrapper."""
        stage = getattr(self, self.stage_names[index])
        while isinstance(stage, ModuleWithAttention):
            stage = stage.wrapped
        return list(stage)

    def train(self, mode: bool = True):
        # mmpretrain's BaseBackbone.train returns None; keep nn.Module's
        # chaining (``model.eval()`` returns the model).
        super().train(mode)
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        if self.conv_head is not None:
            x = self.conv_head(x)
            if self.num_stages in self.out_indices:
                outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class FBNetV2Supernet(_FBNetV2Base):
    """FBNetV2 channel-search supernet (seed 000 tables 6-7, seed 001
    tables III-IV) as the DCS / DA authors define it.

    Rows ``(e, f, n, s)`` per stage; tuples are ``(low, high, step)``
    options, ``n`` the blocks and ``s`` the stride of the first one.
    Stem: 3x3 conv, 16 channels, stride 2.

    The named supernets are those of the authors' code (repository
    Statistical-Deep-Learning/DCS-Attention, mobile_cv definitions
    ``fbnetv2_supernet``, ``da_fbnetv2_3x_supernet`` and
    ``da_fbnetv2_6x_supernet``), which differ from the seed tables; only
    they contain the searched models of seed 001 table II and seed 000
    tables 2 / 4 (5.9 / 13.2 / 24.5 M parameters, 7.50 M on ImageNet):

    - Depth per stage (blocks; the tables' counts in brackets)::

        base    4 | 3  | 7  | 4     (the tables exactly)
        large   4 | 12 | 21 | 12    (8 | 9 | 21 | 6)
        xlarge  4 | 24 | 42 | 24    (14 | 18 | 42 | 12)

    - Widths: the tables' options; in ``large`` the first 9 blocks of
      stage3 reach 128 (``(48, 128, 8)``, the tables: 96), in ``xlarge``
      12 blocks of stage3 end at 96 and 30 at 128 (the tables: 18 / 24).
    - Expansion: the authors' blocks all expand by 6 (mobile_cv
      ``_ex(6)``); the options here are the tables' ``(0.75, 3.25, 0.5)``
      / ``(0.75, 4.5, 0.75)`` (base, large) or ``(0.75, 6.25, 0.5)`` /
      ``(0.75, 7.5, 0.75)`` (xlarge) plus 6, so the authors' supernet is the
      widest-expansion subnet of base and large.
    - Head: the authors' ``ir_pool`` (1x1 conv-BN-act to ``6 x 216 = 1296``,
      global pool, 1x1 conv with bias to 1984, act; :class:`PoolHead`), not
      a 1x1 conv on the feature map: 2.85 M of the parameters.
    - ``last_stride=1`` keeps stage4 at stride 16 (the Re-ID convention of
      the seeds' MobileNetV2 rows); the default 2 is the authors' ImageNet
      network.

    The seeds insert their attention after each stage: ``after=['stage1',
    'stage2', 'stage3', 'stage4']``.

    Searchable-module interface: :meth:`arch_parameters` (the Gumbel
    logits), ``gumbel_tau`` (a temperature hook sets it), ``sampling``,
    :meth:`expected_flops`, :meth:`export_arch` and :meth:`derive_subnet`.

    In training the option weights are relaxed Gumbel-softmax samples; in
    eval mode they are the one-hot argmax, so an eval supernet computes
    exactly its derived subnet. ``sampling`` overrides this.

    Args:
        arch (str | dict): ``'base'``, ``'large'``, ``'xlarge'`` or a dict
            with ``stages`` (a list of stages, each a list of
            ``[e, f, n, s]`` rows; ``e`` and ``f`` a number,
            ``(low, high, step)`` or ``dict(options=[...])``),
            ``stem_channels``, ``head_channels`` (None or 0: no head) and
            optionally ``head_type`` (``'conv'``, the default for a dict,
            or ``'pool'``) and ``head_expand`` (hidden width of a
            ``'pool'`` head over the last block's largest width).
        in_channels (int): Image channels. Defaults to 3.
        out_indices (Sequence[int]): 0..3 are stage1..stage4, 4 is the head.
            Defaults to ``(4, )``.
        gumbel_tau (float): Initial Gumbel temperature (tau0 = 5, METHODS.md
            section 6). Defaults to 5.0.
        flops_input_size (tuple[int, int]): (H, W) at which
            :meth:`expected_flops` counts by default. Defaults to
            ``(256, 128)``.
        last_stride (int, optional): Stride (1 or 2) of the first block of
            the last stage; None keeps the arch's. Defaults to None.
        norm_cfg (dict): Normalisation config. Defaults to BN.
        act_cfg (dict): Activation config (the authors use HSwish).
            Defaults to ReLU.
        init_cfg (dict | list, optional): Initialisation config.

    Shapes:
        x: (B, 3, H, W) -> tuple of (B, C, H', W'), C the largest width;
        the ``'pool'`` head gives (B, 1984, 1, 1).
    """

    arch_zoo = {
        # mobile_cv fbnetv2_supernet (= seed 000 table 6, seed 001 table
        # III, FBNetV2 column).
        'base':
        _arch((with_authors_expansion(_E_SMALL),
               with_authors_expansion(_E_WIDE)), [[(None, (12, 16, 4), 1, 1),
                                                   (0, (16, 28, 4), 1, 2),
                                                   (0, (16, 28, 4), 2, 1)],
                                                  [(0, (16, 40, 8), 1, 2),
                                                   (0, (16, 40, 8), 2, 1)],
                                                  [(0, (48, 96, 8), 1, 2),
                                                   (0, (48, 96, 8), 2, 1),
                                                   (1, (72, 128, 8), 4, 1)],
                                                  [(1, (112, 216, 8), 1, 2),
                                                   (1, (112, 216, 8), 3, 1)]]),
        # mobile_cv da_fbnetv2_3x_supernet.
        'large':
        _arch((with_authors_expansion(_E_SMALL),
               with_authors_expansion(_E_WIDE)), [[(None, (12, 16, 4), 1, 1),
                                                   (0, (16, 28, 4), 1, 2),
                                                   (0, (16, 28, 4), 2, 1)],
                                                  [(0, (16, 40, 8), 3, 2),
                                                   (0, (16, 40, 8), 9, 1)],
                                                  [(0, (48, 128, 8), 3, 2),
                                                   (0, (48, 128, 8), 6, 1),
                                                   (1, (72, 128, 8), 12, 1)],
                                                  [(1, (112, 216, 8), 3, 2),
                                                   (1, (112, 216, 8), 9, 1)]]),
        # mobile_cv da_fbnetv2_6x_supernet.
        'xlarge':
        _arch((with_authors_expansion(_E_DEEP),
               with_authors_expansion(_E_DEEP_WIDE)),
              [[(None, (12, 16, 4), 1, 1), (0, (16, 28, 4), 1, 2),
                (0, (16, 28, 4), 2, 1)],
               [(0, (16, 40, 8), 6, 2), (0, (16, 40, 8), 18, 1)],
               [(0, (48, 96, 8), 6, 2), (0, (48, 96, 8), 6, 1),
                (1, (72, 128, 8), 30, 1)],
               [(1, (112, 216, 8), 6, 2), (1, (112, 216, 8), 18, 1)]]),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (4, ),
                 gumbel_tau: float = 5.0,
                 flops_input_size: Tuple[int, int] = (256, 128),
                 last_stride: Optional[int] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]):
        super().__init__(init_cfg=init_cfg)
        self.arch_settings = self._parse_arch(arch)
        if last_stride is not None:
            if last_stride not in (1, 2) or isinstance(last_stride, bool):
                raise ValueError(f'last_stride must be None, 1 or 2, got '
                                 f'{last_stride!r}')
            row = self.arch_settings['stages'][-1][0]
            if not isinstance(row, (list, tuple)) or len(row) != 4:
                raise ValueError('arch stages[-1][0] must be [e, f, n, s], '
                                 f'got {row!r}')
            self.arch_settings['stages'][-1][0] = [*row[:3], last_stride]
        self.last_stride = last_stride
        self.in_channels = in_channels
        self.norm_cfg = copy.deepcopy(norm_cfg)
        self.act_cfg = copy.deepcopy(act_cfg)
        self.flops_input_size = tuple(flops_input_size)
        stem_channels = self.arch_settings['stem_channels']
        head_channels = self.arch_settings['head_channels']
        head_type = self.arch_settings.setdefault('head_type', 'conv')
        head_expand = self.arch_settings.setdefault('head_expand', None)
        self._check_head(head_type, head_expand, 'FBNetV2Supernet arch')
        stages = self.arch_settings['stages']
        self.num_stages = len(stages)

        prev_options = [stem_channels]
        for stage_index, rows in enumerate(stages):
            blocks = []
            for row_index, row in enumerate(rows):
                where = (f'arch stages[{stage_index}][{row_index}]')
                if not isinstance(row, (list, tuple)) or len(row) != 4:
                    raise ValueError(f'{where} must be [e, f, n, s], got '
                                     f'{row!r}')
                expand, channels, num_blocks, stride = row
                e_opts = expand_options(expand, f'{where} e', integer=False)
                c_opts = expand_options(channels, f'{where} f', integer=True)
                if not isinstance(num_blocks, int) or num_blocks < 1 or \
                        stride not in (1, 2):
                    raise ValueError(f'{where}: n must be an int >= 1 and s '
                                     f'1 or 2, got n={num_blocks!r}, '
                                     f's={stride!r}')
                for k in range(num_blocks):
                    s = stride if k == 0 else 1
                    if e_opts == [1.0] and len(prev_options) > 1:
                        raise ValueError(
                            f'{where}: a block with the fixed expansion 1 '
                            'has no expansion conv, so its input width '
                            f'must be fixed; the previous block searches '
                            f'{prev_options}')
                    blocks.append(
                        SearchableInvertedResidual(
                            max(prev_options),
                            c_opts,
                            e_opts,
                            s,
                            residual=s == 1
                            and max(prev_options) == max(c_opts),
                            norm_cfg=norm_cfg,
                            act_cfg=act_cfg))
                    prev_options = c_opts
            self.add_module(f'stage{stage_index + 1}', nn.Sequential(*blocks))
        self._build_stem_and_head(
            in_channels, stem_channels, head_channels, max(prev_options),
            norm_cfg, act_cfg, head_type,
            head_mid_channels(head_type, head_expand, max(prev_options)))
        self.out_indices = self._check_out_indices(out_indices,
                                                   self.num_stages,
                                                   self.conv_head is not None)
        self.gumbel_tau = gumbel_tau
        self.sampling = None

    def _parse_arch(self, arch):
        if isinstance(arch, str):
            if arch.lower() not in self.arch_zoo:
                raise ValueError(f'arch must be one of '
                                 f'{sorted(self.arch_zoo)} or a dict, got '
                                 f'{arch!r}')
            return copy.deepcopy(self.arch_zoo[arch.lower()])
        if not isinstance(arch, dict) or not {
                'stages', 'stem_channels', 'head_channels'
        } <= set(arch):
            raise ValueError("a custom arch must be a dict with 'stages', "
                             "'stem_channels' and 'head_channels', got "
                             f'{arch!r}')
        if not isinstance(arch['stages'], (list, tuple)) or not all(
                isinstance(rows, (list, tuple)) and rows
                for rows in arch['stages']) or not arch['stages']:
            raise ValueError('arch stages must be a non-empty list of '
                             'non-empty lists of [e, f, n, s] rows')
        return copy.deepcopy(arch)

    def blocks(self) -> List[SearchableInvertedResidual]:
        """All searchable blocks in order."""
        return [
            block for i in range(self.num_stages)
            for block in self.stage_blocks(i)
        ]

    @property
    def gumbel_tau(self) -> float:
        """Gumbel-softmax temperature of every block."""
        return self._gumbel_tau

    @gumbel_tau.setter
    def gumbel_tau(self, value: float):
        if isinstance(value,
                      bool) or not isinstance(value,
                                              (int, float)) or not value > 0:
            raise ValueError(f'gumbel_tau must be a number > 0, got '
                             f'{value!r}')
        self._gumbel_tau = float(value)
        for block in self.blocks():
            block.gumbel_tau = float(value)

    @property
    def sampling(self) -> Optional[str]:
        """Option weights used in forward: None (Gumbel samples in training,
        argmax in eval), ``'gumbel'``, ``'softmax'`` or ``'argmax'``."""
        return self.__dict__.get('_sampling')

    @sampling.setter
    def sampling(self, mode: Optional[str]):
        if mode not in (None, 'gumbel', 'softmax', 'argmax'):
            raise ValueError("sampling must be None, 'gumbel', 'softmax' or "
                             f"'argmax', got {mode!r}")
        self._sampling = mode
        self._sync_sampling()

    def _sync_sampling(self):
        mode = self.sampling or ('gumbel' if self.training else 'argmax')
        for block in self.blocks():
            block.sampling = mode

    def train(self, mode: bool = True):
        super().train(mode)
        self._sync_sampling()
        return self

    def arch_parameters(self) -> List[nn.Parameter]:
        """The Gumbel logits of every block (width, then expansion)."""
        return [p for block in self.blocks() for p in block.arch_parameters()]

    def expected_flops(self,
                       input_size: Optional[Tuple[int, int]] = None,
                       weights: str = 'softmax') -> torch.Tensor:
        """Expected cost: the MACs at the mean widths ``sum_i g_i c_i``.

        Args:
            input_size (tuple[int, int], optional): (H, W) of the image.
                Defaults to ``flops_input_size``.
            weights (str): Option weights g: ``'softmax'`` (noise-free,
                ``softmax(logits / tau)``), ``'gumbel'`` (a fresh sample),
                ``'sampled'`` (those of the last forward, so the cost matches
                the sampled network), ``'argmax'`` (the derived subnet's
                exact MACs), ``'largest'`` / ``'smallest'`` (those of the
                widest / narrowest subnet).

        Returns:
            Tensor: Scalar, differentiable w.r.t. :meth:`arch_parameters`.
        """
        if weights not in ('softmax', 'gumbel', 'sampled', 'argmax', 'largest',
                           'smallest'):
            raise ValueError("weights must be 'softmax', 'gumbel', 'sampled', "
                             "'argmax', 'largest' or 'smallest', got "
                             f'{weights!r}')
        input_size = self.flops_input_size if input_size is None \
            else tuple(input_size)

        def describe():
            for block in self.blocks():
                if weights == 'sampled':
                    if block.last_weights is None:
                        raise RuntimeError(
                            "expected_flops(weights='sampled') needs a "
                            'forward pass first')
                    g_c, g_e = block.last_weights
                else:
                    g_c, g_e = block.choice_weights(weights)
                c_out = g_c @ g_c.new_tensor(block.channel_options)
                mid = g_e @ g_e.new_tensor(block.mid_options, dtype=g_e.dtype)
                yield c_out, mid, block.stride, block.with_expand

        return _conv_flops(input_size, describe(),
                           self.arch_settings['stem_channels'],
                           self._head_desc(), self.in_channels)

    def export_arch(self, choice: str = 'argmax') -> Dict:
        """The argmax subnet as a JSON-able dict (``FBNetV2Subnet(arch=...)``).

        Args:
            choice (str): ``'argmax'`` (the searched subnet), ``'largest'``
                or ``'smallest'`` (the widest / narrowest subnet, every
                block at its largest / smallest width and expansion).

        Returns:
            dict: ``stem_channels``, ``head_channels``, ``head_type``,
            ``head_mid_channels`` and ``stages``: per stage a list of blocks
            ``dict(out_channels, mid_channels, expand_ratio, stride,
            residual, with_expand)``; ``expand_ratio`` is relative to the
            supernet block's largest input width.
        """
        if choice not in ('argmax', 'largest', 'smallest'):
            raise ValueError("choice must be 'argmax', 'largest' or "
                             f"'smallest', got {choice!r}")
        stages = []
        for i in range(self.num_stages):
            blocks = []
            for block in self.stage_blocks(i):
                out_channels, mid, ratio = block.chosen(choice)
                blocks.append(
                    dict(
                        out_channels=out_channels,
                        mid_channels=mid,
                        expand_ratio=ratio,
                        stride=block.stride,
                        residual=block.residual,
                        with_expand=block.with_expand))
            stages.append(blocks)
        head = self._head_desc()
        return dict(
            stem_channels=self.arch_settings['stem_channels'],
            head_channels=self.arch_settings['head_channels'] or None,
            head_type=head[0] if head else 'conv',
            head_mid_channels=head[2] if head else None,
            stages=stages)

    def derive_subnet(self, choice: str = 'argmax') -> 'FBNetV2Subnet':
        """A plain :class:`FBNetV2Subnet` of the argmax choices (or
        ``'largest'`` / ``'smallest'``, see :meth:`export_arch`) carrying the
        supernet's weights (first channels kept). Injected attentions are
        not carried: inject them into the subnet by the same paths."""
        subnet = FBNetV2Subnet(
            arch=self.export_arch(choice),
            in_channels=self.in_channels,
            out_indices=self.out_indices,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            init_cfg=None)
        pairs = [(subnet.stem, self.stem)]
        for i in range(self.num_stages):
            pairs.extend(zip(subnet.stage_blocks(i), self.stage_blocks(i)))
        if self.conv_head is not None:
            pairs.append((subnet.conv_head, self.conv_head))
        for small, big in pairs:
            small.load_state_dict(
                slice_state_dict(big.state_dict(), small.state_dict()))
        return subnet.train(self.training)


def slice_state_dict(
        source: Dict[str, torch.Tensor],
        target: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Cut each tensor of ``source`` to the shape of the same key in
    ``target`` by keeping the leading entries of every dimension (the kept
    channels of a supernet are always the first ones)."""
    sliced = {}
    for key, value in target.items():
        if key not in source:
            raise KeyError(f'the supernet state has no {key!r}')
        tensor = source[key]
        if tensor.dim() != value.dim() or any(
                s < t for s, t in zip(tensor.shape, value.shape)):
            raise ValueError(f'{key}: cannot slice {tuple(tensor.shape)} to '
                             f'{tuple(value.shape)}')
        sliced[key] = tensor[tuple(slice(0, t) for t in value.shape)]
    return sliced


@MODELS.register_module()
class FBNetV2Subnet(_FBNetV2Base):
    """A network derived from :class:`FBNetV2Supernet` (argmax choices).

    Module names are the supernet's (``stem``, ``stage1`` ... ``stage4``,
    ``conv_head``), so the same attention injections apply, and a supernet
    checkpoint loads directly (``init_cfg=dict(type='Pretrained',
    checkpoint=...)`` or ``load_state_dict``): the supernet's tensors are cut
    to the subnet's widths and its Gumbel logits are dropped.

    Args:
        arch (dict): :meth:`FBNetV2Supernet.export_arch` (e.g. loaded from
            the exported JSON).
        in_channels (int): Image channels. Defaults to 3.
        out_indices (Sequence[int]): As in the supernet. Defaults to
            ``(4, )``.
        norm_cfg (dict): Normalisation config. Defaults to BN.
        act_cfg (dict): Activation config. Defaults to ReLU.
        init_cfg (dict | list, optional): Initialisation config.

    Shapes:
        x: (B, 3, H, W) -> tuple of (B, C, H', W').
    """

    _BLOCK_KEYS = ('out_channels', 'mid_channels', 'stride', 'residual',
                   'with_expand')

    def __init__(self,
                 arch: dict,
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (4, ),
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(arch, dict) or not {'stem_channels', 'stages'
                                              } <= set(arch):
            raise ValueError(
                "FBNetV2Subnet: arch must be the dict of "
                "FBNetV2Supernet.export_arch() (keys 'stem_channels', "
                f"'head_channels', 'stages'), got {arch!r}")
        self.arch = copy.deepcopy(arch)
        self.in_channels = in_channels
        self.num_stages = len(arch['stages'])
        c_in = arch['stem_channels']
        for stage_index, specs in enumerate(arch['stages']):
            blocks = []
            for block_index, spec in enumerate(specs):
                missing = [k for k in self._BLOCK_KEYS if k not in spec]
                if missing:
                    raise ValueError(
                        f'arch stages[{stage_index}][{block_index}] lacks '
                        f'{missing}')
                blocks.append(
                    InvertedResidual(c_in, spec['mid_channels'],
                                     spec['out_channels'], spec['stride'],
                                     spec['residual'], spec['with_expand'],
                                     norm_cfg, act_cfg))
                c_in = spec['out_channels']
            self.add_module(f'stage{stage_index + 1}', nn.Sequential(*blocks))
        head_type = arch.get('head_type') or 'conv'
        head_mid = arch.get('head_mid_channels')
        self._check_head(head_type, 1.0, 'FBNetV2Subnet arch')
        if head_type == 'pool' and arch.get('head_channels') and (
                isinstance(head_mid, bool) or not isinstance(head_mid, int)
                or head_mid < 1):
            raise ValueError(
                "FBNetV2Subnet arch: a 'pool' head needs head_mid_channels, "
                f'a positive int, got {head_mid!r}')
        self._build_stem_and_head(in_channels, arch['stem_channels'],
                                  arch.get('head_channels'), c_in, norm_cfg,
                                  act_cfg, head_type, head_mid)
        self.out_indices = self._check_out_indices(out_indices,
                                                   self.num_stages,
                                                   self.conv_head is not None)
        self._register_load_state_dict_pre_hook(self._slice_supernet_state)

    def _slice_supernet_state(self, state_dict, prefix, *args, **kwargs):
        """Accept a supernet state dict: drop its logits, cut its tensors."""
        for key in [k for k in state_dict if k.startswith(prefix)]:
            if key.endswith(('.channel_logits', '.expand_logits')):
                state_dict.pop(key)
        own = self.state_dict()
        for name, param in own.items():
            # Only the convolutional body: injected modules keep their own
            # shapes.
            if '.attention.' in f'.{name}':
                continue
            key = prefix + name
            value = state_dict.get(key)
            if value is None or value.shape == param.shape:
                continue
            if value.dim() == param.dim() and all(
                    s >= t for s, t in zip(value.shape, param.shape)):
                state_dict[key] = value[tuple(
                    slice(0, t) for t in param.shape)]

    def flops(self, input_size: Tuple[int, int] = (256, 128)) -> int:
        """MACs of the convolutions at image size (H, W)."""
        blocks = [
            b for i in range(self.num_stages) for b in self.stage_blocks(i)
        ]
        desc = ((b.out_channels, b.mid_channels, b.stride, b.with_expand)
                for b in blocks)
        return int(
            _conv_flops(
                tuple(input_size), desc, self.arch['stem_channels'],
                self._head_desc(), self.in_channels))
