"""DA: Differentiable Attention over a learned channel window (seed 000).

A lightweight non-local block whose affinity uses only the channels of one or
more windows ``[s, s + l)`` on the channel circle, while the value uses every
channel (paper eq. 1-3, METHODS.md section 1)::

    R = X_w diag(w) X_w^T   (HW x HW, never formed)
    f = R X / (HW)          computed as (w * X_w) (X_w^T X) / (HW)
    out = X + BN0(DWConv3x3(f))

Start ``s = s_int + s_dec`` and length ``l = l_int + l_dec`` are fractional:
``s_int``/``l_int`` are integer buffers and ``s_dec``/``l_dec`` trainable
architecture parameters. The affinity of a fractional window is the bilinear
interpolation (eq. 4-5) of the affinities of the four integer windows
``(s_int, l_int)``, ``(s_int + 1, l_int)``, ``(s_int, l_int + 1)`` and
``(s_int + 1, l_int + 1)``. Because an affinity is a sum of per-channel terms
``x_c x_c^T``, that interpolation equals one channel weight vector ``w``:
1 inside the window, ``1 - s_dec`` on its first channel,
``s_dec + l_dec - s_dec * l_dec`` on channel ``s_int + l_int`` and
``s_dec * l_dec`` on channel ``s_int + l_int + 1`` (indices modulo C: the
circular channel padding of the paper). Several windows (Multi-Window DA) are
united channel-wise (maximum of the weights), so a channel shared by
overlapping windows counts once; at integer windows this is exactly the
concatenation of the merged disjoint windows (eq. 10-12).
"""
import copy
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .non_local import ZeroInitProjection, check_feature_map


def linear_affinity_aggregate(x, query, key):
    """``f = (Q^T K) X / N`` computed as ``Q^T (K X^T) / N``.

    The affinity ``R_ij = sum_s query[s, i] * key[s, j]`` (N x N) is never
    formed: the cost is O(C * S * N) instead of O(N^2).

    Args:
        x (Tensor): Values, (B, C, N).
        query (Tensor): (B, S, N).
        key (Tensor): (B, S, N).

    Returns:
        Tensor: ``f[b, c, i] = sum_j R_ij x[b, c, j] / N``, (B, C, N).
    """
    n = x.shape[-1]
    # Divide before the matmul so half-precision sums over N stay in range.
    context = torch.bmm(x, key.transpose(1, 2) / n)  # (B, C, S)
    return torch.bmm(context, query)


def merge_windows(windows, num_channels):
    """Merge integer channel windows into disjoint windows (paper eq. 10).

    Windows live on the channel circle (start modulo C). Windows whose union
    is one window (overlapping or touching) merge into
    ``s_O = min s_k``, ``l_O = max(s_k + l_k) - s_O``.

    Args:
        windows (Sequence[tuple[int, int]]): ``(start, length)`` pairs.
        num_channels (int): Number of channels C.

    Returns:
        list[tuple[int, int]]: Disjoint ``(start, length)`` windows sorted by
        start, ``0 <= start < C``; ``[(0, C)]`` when every channel is covered.

    Raises:
        ValueError: A window is not two ints with ``0 <= start < C`` and
            ``1 <= length <= C`` (a window may wrap past channel C - 1, but
            one outside the channel range comes from another layer's width).
    """
    selected = [False] * num_channels
    for window in windows:
        start, length = _as_int_window(window, num_channels)
        for offset in range(length):
            selected[(start + offset) % num_channels] = True
    return _circular_runs(selected)


def _as_int_window(window, num_channels):
    if (not isinstance(window, (list, tuple)) or len(window) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in window)):
        raise ValueError('a window must be a (start, length) pair of ints, '
                         f'got {window!r}')
    start, length = window
    if not (0 <= start < num_channels and 1 <= length <= num_channels):
        raise ValueError(
            f'window (start, length)={tuple(window)} is out of range for '
            f'{num_channels} channels: expected 0 <= start < {num_channels} '
            f'and 1 <= length <= {num_channels}')
    return window


def _circular_runs(selected):
    """Maximal runs of True on a circle as sorted (start, length) pairs."""
    num = len(selected)
    if all(selected):
        return [(0, num)]
    runs = []
    start, length = None, 0
    first_gap = selected.index(False)
    # Walk once around the circle starting after a gap, so a run that wraps
    # past channel C-1 is found whole.
    for step in range(1, num + 1):
        index = (first_gap + step) % num
        if selected[index]:
            if start is None:
                start, length = index, 0
            length += 1
        elif start is not None:
            runs.append((start, length))
            start = None
    return sorted(runs)


def _split_integer(value):
    """(floor, fractional part in [0, 1)) of a float tensor, robust to the
    fractional part rounding up to exactly 1.0."""
    carry = torch.floor(value)
    frac = value - carry
    overflow = frac >= 1
    return carry.long() + overflow.long(), torch.where(overflow,
                                                       torch.zeros_like(frac),
                                                       frac)


@MODELS.register_module()
class ChannelWindowAttention(BaseModule):
    """Single-Window DA: attention whose affinity uses a searched channel
    window (seed 000, METHODS.md section 1).

    One window by default; ``init_windows`` may give several (see
    :class:`MultiWindowAttention` for the paper's tiling).

    Searchable-module interface: :meth:`arch_parameters` (``s_dec``,
    ``l_dec``), :meth:`carry_` (call after every architecture step),
    :meth:`window_stats`, :meth:`export_arch` and :meth:`fix_windows` (the
    pruned inference form, :class:`FixedChannelWindowAttention`).

    Args:
        in_channels (int): Channels C of the input (at least 2).
        init_windows (Sequence[tuple[float, float]], optional): Initial
            ``(start, length)`` of each window. Defaults to one window
            ``(0.0, floor(0.5 * C) + 0.5)``.
        min_length (int, optional): Lower bound of ``l_int`` in
            :meth:`carry_`. Defaults to ``max(1, floor(0.25 * C))``
            (the authors' bound).
        max_length (int, optional): Upper bound of ``l_int``. Defaults to
            ``C - 1``.
        interpolation (str): ``'affinity'`` interpolates the four integer
            windows' affinities (paper eq. 4-5, exact). ``'feature'``
            interpolates the windowed features instead,
            ``theta = (1 - l_dec) [theta_s, 0] + l_dec theta_(l+1)`` with
            ``theta_s = (1 - s_dec) X[s:s+l] + s_dec X[s+1:s+l+1]`` (what the
            authors' code does; it adds cross-channel terms, so it equals
            eq. 4-5 only at integer windows). Only with one window.
            Defaults to ``'affinity'``.
        norm_cfg (dict): Normalisation of the output projection. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 init_windows=None,
                 min_length=None,
                 max_length=None,
                 interpolation='affinity',
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(
                in_channels,
                bool) or not isinstance(in_channels, int) or in_channels < 2:
            raise ValueError(
                f'in_channels must be an int >= 2, got {in_channels!r}')
        if interpolation not in ('affinity', 'feature'):
            raise ValueError("interpolation must be 'affinity' or 'feature', "
                             f'got {interpolation!r}')
        self.in_channels = in_channels
        self.interpolation = interpolation
        self.norm_cfg = copy.deepcopy(norm_cfg)
        self.min_length = max(1, in_channels // 4) \
            if min_length is None else min_length
        self.max_length = in_channels - 1 if max_length is None \
            else max_length
        if not 1 <= self.min_length <= self.max_length <= in_channels:
            raise ValueError(
                'need 1 <= min_length <= max_length <= in_channels, got '
                f'min_length={self.min_length}, max_length={self.max_length}, '
                f'in_channels={in_channels}')
        if init_windows is None:
            init_windows = [(0.0, in_channels // 2 + 0.5)]
        if interpolation == 'feature' and len(init_windows) != 1:
            raise ValueError("interpolation='feature' supports one window, "
                             f'got {len(init_windows)} init_windows')
        self._init_windows(init_windows)
        self.out_proj = ZeroInitProjection(
            in_channels,
            in_channels,
            kernel_size=3,
            groups=in_channels,
            norm_cfg=norm_cfg)

    def _init_windows(self, windows):
        if len(windows) == 0:
            raise ValueError('init_windows must hold at least one window')
        starts, lengths = [], []
        for window in windows:
            if not isinstance(window, (list, tuple)) or len(window) != 2:
                raise ValueError('each init window must be a (start, length) '
                                 f'pair, got {window!r}')
            start, length = float(window[0]), float(window[1])
            if not 0 <= start < self.in_channels:
                raise ValueError(
                    f'init window {window!r}: start must lie in [0, '
                    f'{self.in_channels}) (in_channels={self.in_channels})')
            if not self.min_length <= math.floor(length) <= self.max_length:
                raise ValueError(
                    f'init window {window!r}: floor(length) must lie in '
                    f'[min_length, max_length] = [{self.min_length}, '
                    f'{self.max_length}]')
            starts.append(start)
            lengths.append(length)
        starts = torch.tensor(starts, dtype=torch.float64)
        lengths = torch.tensor(lengths, dtype=torch.float64)
        s_int, s_dec = _split_integer(starts)
        l_int, l_dec = _split_integer(lengths)
        self.register_buffer('s_int', s_int % self.in_channels)
        self.register_buffer('l_int', l_int)
        self.s_dec = nn.Parameter(s_dec.float())
        self.l_dec = nn.Parameter(l_dec.float())

    @property
    def num_windows(self):
        """Number M of searched windows."""
        return self.s_int.numel()

    def arch_parameters(self):
        """The architecture parameters: ``[s_dec, l_dec]``, each (M, )."""
        return [self.s_dec, self.l_dec]

    def _window_positions(self):
        """Channel index and validity of every position of every window.

        Window k covers offsets ``0 .. l_int[k] + 1`` from ``s_int[k]``: its
        ``l_int`` channels plus the two that the interpolation reaches.

        Returns:
            tuple: offsets (1, J), channel indices (M, J), valid mask (M, J).
        """
        span = int(self.l_int.max()) + 2
        offsets = torch.arange(span, device=self.s_int.device).unsqueeze(0)
        index = (self.s_int.unsqueeze(1) + offsets) % self.in_channels
        valid = offsets <= self.l_int.unsqueeze(1) + 1
        return offsets, index, valid

    def channel_weights(self):
        """Per-channel weight of the affinity, differentiable in s_dec, l_dec.

        Returns:
            Tensor: (C, ); 1 for channels inside the windows, fractional at the
            windows' ends, 0 outside.
        """
        offsets, index, valid = self._window_positions()
        s = self.s_dec.unsqueeze(1)
        l = self.l_dec.unsqueeze(1)  # noqa: E741
        last = self.l_int.unsqueeze(1)
        weights = torch.ones(index.shape, dtype=s.dtype, device=s.device)
        weights = torch.where(offsets == last + 1, s * l, weights)
        weights = torch.where(offsets == last, s + l - s * l, weights)
        weights = torch.where(offsets == 0, 1 - s, weights)
        weights = weights * valid.to(weights.dtype)
        # scatter_add: a window longer than C - 2 wraps onto channels it
        # already covers, as cat(X, X) padding would count them twice.
        per_window = weights.new_zeros(self.num_windows, self.in_channels)
        per_window = per_window.scatter_add(1, index, weights)
        return per_window.amax(dim=0)

    def support(self):
        """Sorted indices of the channels that any window can reach (C', )."""
        _, index, valid = self._window_positions()
        return torch.unique(index[valid])

    def _interpolated_window_features(self, x):
        """Windowed features interpolated in s and l ('feature' mode).

        Args:
            x (Tensor): (B, C, N).

        Returns:
            Tensor: (B, l_int + 1, N).
        """
        length = int(self.l_int[0])
        index = (self.s_int[0] +
                 torch.arange(length + 2, device=x.device)) % self.in_channels
        window = x.index_select(1, index)
        s = self.s_dec[0].to(x.dtype)
        l = self.l_dec[0].to(x.dtype)  # noqa: E741
        theta_l = (1 - s) * window[:, :length] + s * window[:, 1:length + 1]
        theta_l1 = (1 - s) * window[:, :length + 1] + s * window[:, 1:]
        theta_l = torch.cat(
            [theta_l, theta_l.new_zeros(theta_l[:, :1].shape)], dim=1)
        return (1 - l) * theta_l + l * theta_l1

    def forward(self, x):
        check_feature_map(x, self.in_channels, type(self).__name__)
        B, C, H, W = x.shape
        x_flat = x.flatten(2)
        if self.interpolation == 'feature':
            query = key = self._interpolated_window_features(x_flat)
        else:
            support = self.support()
            key = x_flat.index_select(1, support)
            weights = self.channel_weights()[support].to(key.dtype)
            query = key * weights.view(1, -1, 1)
        f = linear_affinity_aggregate(x_flat, query, key)
        return x + self.out_proj(f.view(B, C, H, W))

    @torch.no_grad()
    def carry_(self):
        """Move whole steps of ``s_dec``/``l_dec`` into ``s_int``/``l_int``.

        Paper Algorithm 1: when a decimal part leaves [0, 1),
        ``s_int <- (s_int + floor(s_dec)) mod C`` and
        ``s_dec <- s_dec - floor(s_dec)``; the same for ``l``, after which
        ``l_int`` is clamped to ``[min_length, max_length]``. A clamped length
        sits exactly on the bound (``l_dec = 0``).
        """
        s_carry, s_dec = _split_integer(self.s_dec.detach())
        self.s_int.copy_(
            torch.remainder(self.s_int + s_carry, self.in_channels))
        self.s_dec.copy_(s_dec)
        l_carry, l_dec = _split_integer(self.l_dec.detach())
        l_int = self.l_int + l_carry
        clamped = (l_int < self.min_length) | (l_int > self.max_length)
        self.l_int.copy_(l_int.clamp(self.min_length, self.max_length))
        self.l_dec.copy_(torch.where(clamped, torch.zeros_like(l_dec), l_dec))

    def searched_windows(self):
        """Current fractional windows as ``[(s, l), ...]`` floats."""
        starts = (self.s_int.double() + self.s_dec.detach().double()).tolist()
        lengths = (self.l_int.double() + self.l_dec.detach().double()).tolist()
        return list(zip(starts, lengths))

    def rounded_windows(self, rounding='nearest'):
        """Integer windows, one per searched window.

        Args:
            rounding (str): ``'nearest'`` rounds s and l to the nearest
                integer (halves up); ``'floor'`` keeps ``s_int``, ``l_int``.

        Returns:
            list[tuple[int, int]]: ``(start, length)`` with start in [0, C).
        """
        if rounding == 'floor':
            return list(zip(self.s_int.tolist(), self.l_int.tolist()))
        if rounding != 'nearest':
            raise ValueError("rounding must be 'nearest' or 'floor', got "
                             f'{rounding!r}')
        windows = []
        for start, length in self.searched_windows():
            windows.append((math.floor(start + 0.5) % self.in_channels,
                            min(math.floor(length + 0.5), self.in_channels)))
        return windows

    def merged_windows(self, rounding='nearest'):
        """Disjoint windows after merging the rounded windows (eq. 10)."""
        return merge_windows(self.rounded_windows(rounding), self.in_channels)

    def window_stats(self, rounding='nearest'):
        """Window statistics as in the paper's tables 8-9.

        Returns:
            dict: ``sum_length`` (selected channels), ``num_windows_before``
            (M), ``num_windows_after`` (T), ``windows`` (the T merged
            ``(s, l)``), ``in_channels`` and ``searched_windows`` (the
            fractional ``(s, l)``).
        """
        merged = self.merged_windows(rounding)
        return dict(
            in_channels=self.in_channels,
            sum_length=sum(length for _, length in merged),
            num_windows_before=self.num_windows,
            num_windows_after=len(merged),
            windows=merged,
            searched_windows=self.searched_windows())

    def export_arch(self, rounding='nearest'):
        """The searched architecture as a JSON-able config that builds the
        pruned inference module :class:`FixedChannelWindowAttention`."""
        return dict(
            type='FixedChannelWindowAttention',
            in_channels=self.in_channels,
            windows=[list(w) for w in self.merged_windows(rounding)],
            norm_cfg=_plain(self.norm_cfg))

    def fix_windows(self, rounding='nearest'):
        """Return the pruned inference module with this module's weights.

        The affinity of the returned module reads only the selected channels
        (``index_select``); it equals this module wherever the windows are
        integers.
        """
        cfg = self.export_arch(rounding)
        cfg.pop('type')
        fixed = FixedChannelWindowAttention(**cfg)
        fixed.out_proj.load_state_dict(self.out_proj.state_dict())
        fixed.to(self.s_dec.device)
        fixed.train(self.training)
        return fixed


def _plain(cfg):
    """A JSON-able deep copy of a (Config)dict."""
    if isinstance(cfg, dict):
        return {key: _plain(value) for key, value in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [_plain(value) for value in cfg]
    return cfg


@MODELS.register_module()
class MultiWindowAttention(ChannelWindowAttention):
    """Multi-Window DA (seed 000, appendix A.1 / B.3).

    ``M = ceil(C / window_length)`` windows start at ``0, l0, 2 l0, ...`` with
    length ``l0`` (the last one ``C - l0 (M - 1)``), so they tile all channels
    before the search. Windows are searched like the single window and merged
    into ``T <= M`` disjoint windows (:meth:`window_stats`).

    Args:
        in_channels (int): Channels C of the input; must exceed
            ``window_length``.
        window_length (int): Initial window length l0. Defaults to 8.
        min_length (int): Lower bound of each ``l_int``. Defaults to 1.
        max_length (int, optional): Upper bound of each ``l_int``. Defaults
            to ``C - 1``.
        norm_cfg (dict): Normalisation of the output projection. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 window_length=8,
                 min_length=1,
                 max_length=None,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        if isinstance(window_length, bool) or not isinstance(
                window_length, int) or window_length < 1:
            raise ValueError('window_length must be a positive int, got '
                             f'{window_length!r}')
        if not isinstance(in_channels, int) or in_channels <= window_length:
            raise ValueError(
                f'MultiWindowAttention needs in_channels ({in_channels!r}) > '
                f'window_length ({window_length})')
        num = math.ceil(in_channels / window_length)
        windows = [(float(window_length * k), float(window_length))
                   for k in range(num - 1)]
        windows.append((float(window_length * (num - 1)),
                        float(in_channels - window_length * (num - 1))))
        super().__init__(
            in_channels,
            init_windows=windows,
            min_length=min_length,
            max_length=max_length,
            interpolation='affinity',
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)
        self.window_length = window_length


@MODELS.register_module()
class FixedChannelWindowAttention(BaseModule):
    """DA with fixed windows: the retrain / inference form after the search.

    Only the selected channels enter the affinity (``index_select``; the
    others are pruned from it), the value uses all channels.

    Args:
        in_channels (int): Channels C of the input.
        windows (Sequence[tuple[int, int]], optional): Integer
            ``(start, length)`` windows with ``0 <= start < C`` and
            ``1 <= length <= C``; a window may wrap past channel C - 1 and
            overlapping windows are merged.
        channel_indices (Sequence[int], optional): The selected channels, as
            an alternative to ``windows``. Give exactly one of the two.
        norm_cfg (dict): Normalisation of the output projection. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 windows=None,
                 channel_indices=None,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(
                in_channels,
                bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        if (windows is None) == (channel_indices is None):
            raise ValueError('give exactly one of windows and channel_indices')
        self.in_channels = in_channels
        if windows is not None:
            windows = [tuple(w) if isinstance(w, list) else w for w in windows]
            self.windows = merge_windows(windows, in_channels)
            indices = sorted({(s + k) % in_channels
                              for s, l in self.windows
                              for k in range(l)})
        else:
            indices = sorted(set(channel_indices))
            if len(indices) != len(channel_indices) or any(
                    not isinstance(i, int) or not 0 <= i < in_channels
                    for i in indices):
                raise ValueError(
                    'channel_indices must be distinct ints in '
                    f'[0, {in_channels}), got {channel_indices!r}')
            self.windows = _circular_runs(
                [i in set(indices) for i in range(in_channels)])
        if not indices:
            raise ValueError('the fixed windows select no channel')
        # Derived from the config, so not part of the state dict.
        self.register_buffer(
            'channel_indices',
            torch.tensor(indices, dtype=torch.long),
            persistent=False)
        self.out_proj = ZeroInitProjection(
            in_channels,
            in_channels,
            kernel_size=3,
            groups=in_channels,
            norm_cfg=norm_cfg)

    def forward(self, x):
        check_feature_map(x, self.in_channels, type(self).__name__)
        B, C, H, W = x.shape
        x_flat = x.flatten(2)
        selected = x_flat.index_select(1, self.channel_indices)
        f = linear_affinity_aggregate(x_flat, selected, selected)
        return x + self.out_proj(f.view(B, C, H, W))
