"""Pictures of searched architectures.

- DA (seed 000): the windows of every module over its channel axis
  (figure 4), a feature map with the selected channel rows boxed
  (figure 3), window-length histograms before / after merging (figures
  5-6) and the window statistics (tables 8-9).
- HOGA (seed 004): a genotype drawn as its DAG (figure 3).
- FBNetV2 (seeds 000 / 001): the chosen channels of every block.
"""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch.nn as nn
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path

from mmattn.models.attentions import (ChannelWindowAttention,
                                      FixedChannelWindowAttention, Genotype,
                                      HOGAttention)


# -- DA ------------------------------------------------------------------
def collect_window_stats(model: nn.Module) -> Dict[str, dict]:
    """Window statistics of every DA module, keyed by module path.

    Searched modules (:class:`ChannelWindowAttention`) give
    :meth:`~ChannelWindowAttention.window_stats`; fixed ones
    (:class:`FixedChannelWindowAttention`) only their merged windows
    (``num_windows_before`` and ``searched_windows`` are None).
    """
    stats = {}
    for name, module in model.named_modules():
        if isinstance(module, ChannelWindowAttention):
            stats[name] = module.window_stats()
        elif isinstance(module, FixedChannelWindowAttention):
            windows = [tuple(w) for w in module.windows]
            stats[name] = dict(
                in_channels=module.in_channels,
                sum_length=sum(length for _, length in windows),
                num_windows_before=None,
                num_windows_after=len(windows),
                windows=windows,
                searched_windows=None)
    return stats


def window_stats_from_architecture(arch: dict) -> Dict[str, dict]:
    """Window statistics of every DA module of an exported architecture.

    The same dicts as :func:`collect_window_stats` gives for the model the
    architecture was exported from, built from the ``da`` section of an
    ``architecture.json`` (``ExportArchitectureHook`` /
    ``tools/export_arch.py``). A DA module pruned to the width of a derived
    FBNetV2 subnet has merged windows over the subnet width and searched
    windows over the supernet width; only the former are kept (its
    ``searched_windows`` is None).

    Args:
        arch (dict): An architecture dict (``format: 'mmattn-architecture'``).

    Returns:
        dict: module path -> ``in_channels``, ``sum_length``,
        ``num_windows_before`` (None for a fixed module),
        ``num_windows_after``, ``windows`` and ``searched_windows`` (lists of
        ``(s, l)`` tuples).
    """
    section = arch.get('da') if isinstance(arch, dict) else None
    if not isinstance(section, dict):
        raise ValueError("an exported architecture needs a 'da' dict "
                         '(module path -> fixed DA config)')
    stats = {}
    for path, entry in section.items():
        if not isinstance(entry, dict) or not isinstance(
                entry.get('in_channels'), int) or not isinstance(
                    entry.get('windows'), list):
            raise ValueError(f"da[{path!r}] must be a dict with an int "
                             f"'in_channels' and a 'windows' list, got "
                             f'{entry!r}')
        windows = [tuple(w) for w in entry['windows']]
        extra = entry.get('stats') or {}
        searched = extra.get('searched_windows')
        if searched is not None and extra.get(
                'searched_in_channels', entry['in_channels']) != \
                entry['in_channels']:
            searched = None
        stats[path] = dict(
            in_channels=entry['in_channels'],
            sum_length=extra.get('sum_length',
                                 sum(length for _, length in windows)),
            num_windows_before=extra.get('num_windows_before'),
            num_windows_after=len(windows),
            windows=windows,
            searched_windows=None
            if searched is None else [tuple(w) for w in searched])
    return stats


def _wrapped_spans(start: float, length: float, channels: int):
    """(start, length) pieces of a circular window inside [0, C)."""
    start = start % channels
    length = min(length, channels)
    first = min(length, channels - start)
    spans = [(start, first)]
    if length > first:
        spans.append((0.0, length - first))
    return spans


def plot_channel_windows(stats: Dict[str, dict]) -> Figure:
    """One bar per DA module over its channel axis (0 .. C): the merged
    windows filled, one colour per window, and the searched (fractional)
    windows drawn as thin lines under the bar (seed 000 figure 4)."""
    if not stats:
        raise ValueError('no DA module (ChannelWindowAttention / '
                         'FixedChannelWindowAttention) to plot')
    fig = Figure(figsize=(7, 0.55 * len(stats) + 0.9), dpi=80)
    ax = fig.add_subplot()
    cmap = colormaps['tab10']
    for row, (name, st) in enumerate(stats.items()):
        y = len(stats) - 1 - row
        channels = st['in_channels']
        ax.barh(y, 1.0, left=0, height=0.5, color='0.92', edgecolor='0.5')
        for k, (start, length) in enumerate(st['windows']):
            for s, l in _wrapped_spans(start, length, channels):
                ax.barh(
                    y,
                    l / channels,
                    left=s / channels,
                    height=0.5,
                    color=cmap(k % 10),
                    edgecolor='none')
        for k, (start, length) in enumerate(st.get('searched_windows') or []):
            for s, l in _wrapped_spans(start, length, channels):
                ax.plot([s / channels, (s + l) / channels],
                        [y - 0.33 - 0.03 * (k % 3)] * 2,
                        color='0.3',
                        lw=1)
        ax.text(
            1.01, y, f'{st["sum_length"]}/{channels}', va='center', fontsize=8)
    ax.set_yticks(range(len(stats)))
    ax.set_yticklabels(list(stats)[::-1], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(stats) - 0.4)
    ax.set_xlabel(
        'channel / C (filled: merged windows, lines: searched '
        'windows; right: selected / C)',
        fontsize=8)
    ax.set_title('DA channel windows', fontsize=10)
    fig.tight_layout()
    return fig


def plot_window_feature_map(feature: np.ndarray,
                            windows: Sequence,
                            title: str = '') -> Figure:
    """A feature map (C, H*W) as an image, the selected channel rows boxed
    in red (seed 000 figure 3).

    Args:
        feature (np.ndarray): (C, H, W) or (C, N) input of a DA module.
        windows (Sequence[tuple[int, int]]): Merged integer windows.
    """
    feature = np.asarray(feature, dtype=np.float64)
    feature = feature.reshape(feature.shape[0], -1)
    channels, width = feature.shape
    fig = Figure(figsize=(5, 3.2), dpi=80)
    ax = fig.add_subplot()
    ax.imshow(
        np.abs(feature),
        aspect='auto',
        cmap='viridis',
        interpolation='nearest')
    for start, length in windows:
        for s, l in _wrapped_spans(start, length, channels):
            ax.add_patch(
                Rectangle((-0.5, s - 0.5),
                          width,
                          l,
                          fill=False,
                          edgecolor='red',
                          lw=1.5))
    ax.set_xlabel('position (H*W)', fontsize=8)
    ax.set_ylabel('channel', fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def window_lengths(stats: dict) -> Dict[str, List[int]]:
    """Rounded lengths of the searched windows (``before``) and lengths of
    the merged windows (``after``) of one module."""
    before = [
        max(1, int(math.floor(length + 0.5)))
        for _, length in (stats.get('searched_windows') or [])
    ]
    after = [length for _, length in stats['windows']]
    return dict(before=before, after=after)


def plot_window_length_histograms(stats: Dict[str, dict]) -> Figure:
    """Histograms of window lengths before and after merging, one row per
    module (seed 000 figures 5-6)."""
    if not stats:
        raise ValueError('no DA module to plot')
    fig = Figure(figsize=(6.4, 2.2 * len(stats) + 0.3), dpi=80)
    axes = fig.subplots(len(stats), 2, squeeze=False)
    for row, (name, st) in enumerate(stats.items()):
        lengths = window_lengths(st)
        for col, key in enumerate(('before', 'after')):
            ax = axes[row, col]
            values = lengths[key]
            if values:
                top = max(values)
                ax.hist(
                    values,
                    bins=np.arange(0.5, top + 1.5, 1.0),
                    color='C0' if key == 'before' else 'C1')
            else:
                ax.text(
                    0.5,
                    0.5,
                    'not searched',
                    ha='center',
                    transform=ax.transAxes,
                    fontsize=8)
            # Two lines: module paths are long and the panels are narrow.
            ax.set_title(
                f'{name}\n{key} merging ({len(values)} windows)', fontsize=7)
            ax.set_xlabel('window length', fontsize=7)
            ax.set_ylabel('windows', fontsize=7)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


WINDOW_TABLE_HEADER = ('module', 'channels C', 'sum of window length',
                       'windows (before -> after)', 'selected channels',
                       'selected / C')


def window_stats_table(stats: Dict[str, dict]) -> List[tuple]:
    """Rows of the window statistics table (seed 000 tables 8-9).

    ``sum of window length`` is the sum of the searched fractional
    lengths (the paper's number); ``selected channels`` counts the channels
    of the merged windows.
    """
    rows = []
    for name, st in stats.items():
        searched = st.get('searched_windows')
        fractional = sum(length for _, length in searched) \
            if searched else float(st['sum_length'])
        before = st.get('num_windows_before')
        count = f'{before} -> {st["num_windows_after"]}' \
            if before is not None else str(st['num_windows_after'])
        rows.append(
            (name, st['in_channels'], round(fractional,
                                            3), count, st['sum_length'],
             round(st['sum_length'] / st['in_channels'], 3)))
    return rows


def format_markdown_table(header: Sequence, rows: Sequence[Sequence]) -> str:
    """A GitHub markdown table."""
    lines = [
        '| ' + ' | '.join(map(str, header)) + ' |', '|' + '---|' * len(header)
    ]
    lines += ['| ' + ' | '.join(map(str, row)) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def plot_table(header: Sequence,
               rows: Sequence[Sequence],
               title: str = '') -> Figure:
    """A table rendered as a figure."""
    # Wide enough for the longest entry of every column at font size 8
    # (about 0.075 inch a character), so no cell is clipped.
    chars = sum(
        max(len(str(v)) for v in column) + 2 for column in zip(header, *rows))
    fig = Figure(
        figsize=(max(6.0, 0.075 * chars + 0.4), 0.3 * len(rows) + 0.8), dpi=80)
    ax = fig.add_subplot()
    ax.axis('off')
    table = ax.table(
        cellText=[[str(v) for v in row] for row in rows],
        colLabels=list(header),
        loc='center',
        cellLoc='center')
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(header))))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# -- HOGA ----------------------------------------------------------------
def collect_genotypes(model: nn.Module) -> Dict[str, Genotype]:
    """Distinct HOGA genotypes of a model, keyed by the first module path
    that uses each (fixed modules: their genotype; search modules: the
    argmax :meth:`~HOGAttention.derive_genotype` of the bound alpha)."""
    found: Dict[str, Genotype] = {}
    for name, module in model.named_modules():
        if not isinstance(module, HOGAttention):
            continue
        genotype = module.derive_genotype() if module.search \
            else module.genotype
        if genotype not in found.values():
            found[name] = genotype
    return found


def _free_label_point(path, text: str, placed: list) -> tuple:
    """A point on a quadratic Bezier edge where its label does not overlap
    the labels already placed (approximate boxes in data units)."""
    (x0, y0), (cx, cy), (x1, y1) = path.vertices
    width, height = 0.075 * len(text), 0.16
    for t in (0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85):
        x = (1 - t)**2 * x0 + 2 * t * (1 - t) * cx + t**2 * x1 + 0.05
        y = (1 - t)**2 * y0 + 2 * t * (1 - t) * cy + t**2 * y1
        if all(
                abs(y - py) > height or x + width < px or px + pw < x
                for px, py, pw in placed):
            break
    placed.append((x, y, width))
    return x, y


def plot_genotype(genotype: Genotype, title: str = 'HOGA') -> Figure:
    """Draw a HOGA genotype as its DAG (seed 004 figure 3).

    Group inputs F_k (left) feed node U_k (right) through edge o_{k,k};
    node U_i feeds U_k (i < k) through o_{i,k}; every node and the
    SE-weighted group sum go to the fusion phi. Edges are labelled with
    their primitive; ``'none'`` edges are drawn dotted and grey.
    """
    if not isinstance(genotype, Genotype):
        raise TypeError('genotype must be a Genotype, got '
                        f'{type(genotype).__name__}')
    k = genotype.num_groups
    fig = Figure(figsize=(7, 1.2 * k + 1.0), dpi=80)
    ax = fig.add_subplot()
    ax.axis('off')
    pos = {}
    for i in range(k):
        pos[('F', i)] = (0.0, k - 1 - i)
        pos[('U', i)] = (2.6, k - 1 - i)
    pos['phi'] = (5.4, (k - 1) / 2)
    ops = sorted({op for op, _, _ in genotype.edges})
    colour = {op: colormaps['tab10'](j % 10) for j, op in enumerate(ops)}

    def node(key, text, face):
        x, y = pos[key]
        ax.text(
            x,
            y,
            text,
            ha='center',
            va='center',
            fontsize=9,
            bbox=dict(boxstyle='round', fc=face, ec='0.3'),
            zorder=3)

    for i in range(k):
        node(('F', i), f'$F_{i}$', '#dbe9f6')
        node(('U', i), f'$U_{i}$', '#fbe3c8')
    node('phi', r'$\phi$ (fusion)', '#d9f0d3')
    placed = []
    for op, src, tgt in genotype.edges:
        none = op == 'none'
        style = dict(
            arrowstyle='-|>',
            mutation_scale=10,
            lw=1.0 if none else 1.6,
            ls=':' if none else '-',
            color='0.6' if none else colour[op])
        if src == tgt:
            start, end = pos[('F', src)], pos[('U', tgt)]
            ax.add_patch(
                FancyArrowPatch(start, end, shrinkA=12, shrinkB=12, **style))
            label_xy = ((start[0] + end[0]) / 2, start[1] + 0.08)
        else:
            # U_src -> U_tgt bends right of the node column, further for
            # longer spans, so edges and labels do not overlap.
            x, y0, y1 = pos[('U', src)][0] + 0.12, pos[('U', src)][1], \
                pos[('U', tgt)][1]
            bend = 0.6 * (tgt - src)
            path = Path([(x, y0 - 0.1), (x + bend, (y0 + y1) / 2),
                         (x, y1 + 0.12)],
                        [Path.MOVETO, Path.CURVE3, Path.CURVE3])
            ax.add_patch(FancyArrowPatch(path=path, **style))
            label_xy = _free_label_point(path, op, placed)
        ax.text(
            *label_xy,
            op,
            fontsize=6.5,
            zorder=4,
            color='0.15' if src == tgt else style['color'],
            ha='center' if src == tgt else 'left',
            va='bottom' if src == tgt else 'center',
            bbox=None if src == tgt else dict(
                fc='white', ec='none', alpha=0.7, pad=0.5))
    for i in range(k):
        ax.add_patch(
            FancyArrowPatch(
                pos[('U', i)],
                pos['phi'],
                arrowstyle='-|>',
                mutation_scale=8,
                color='0.75',
                lw=0.8,
                shrinkA=12,
                shrinkB=22))
    ax.set_xlim(-0.4, 6.3)
    ax.set_ylim(-0.6, k - 0.4)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# -- FBNetV2 ---------------------------------------------------------------
def fbnet_blocks(arch: dict) -> List[dict]:
    """The blocks of an FBNetV2 arch dict as a flat list.

    Accepts :meth:`FBNetV2Supernet.export_arch`'s form (``stages``: a
    list of stages, each a list of block dicts) or a flat ``blocks`` list.
    Every block needs ``out_channels``; ``mid_channels``,
    ``expand_ratio`` / ``expansion`` and ``max_out_channels`` are optional.

    Returns:
        list[dict]: blocks with ``stage`` (int) and ``out_channels`` added /
        checked.
    """
    if not isinstance(arch, dict) or not ({'stages', 'blocks'} & set(arch)):
        raise ValueError("an FBNetV2 arch must be a dict with 'stages' (list "
                         "of lists of blocks) or 'blocks' (list of blocks)")
    if 'stages' in arch:
        staged = [(s, b) for s, stage in enumerate(arch['stages'])
                  for b in stage]
    else:
        staged = [(b.get('stage', 0) if isinstance(b, dict) else 0, b)
                  for b in arch['blocks']]
    blocks = []
    for index, (stage, block) in enumerate(staged):
        if not isinstance(block, dict) or not isinstance(
                block.get('out_channels'), int):
            raise ValueError(f'FBNetV2 block {index} must be a dict with an '
                             f'int out_channels, got {block!r}')
        blocks.append(dict(block, stage=int(stage)))
    if not blocks:
        raise ValueError('the FBNetV2 arch has no blocks')
    return blocks


def fbnet_arch_from_model(model: nn.Module) -> Optional[dict]:
    """``export_arch()`` of the first FBNetV2 supernet in ``model`` with
    each block's largest width added as ``max_out_channels``; None if the
    model has none."""
    for module in model.modules():
        if callable(getattr(module, 'export_arch', None)) and callable(
                getattr(module, 'stage_blocks', None)):
            arch = module.export_arch()
            for s, stage in enumerate(arch['stages']):
                for block, searched in zip(stage, module.stage_blocks(s)):
                    options = getattr(searched, 'channel_options', None)
                    if options:
                        block['max_out_channels'] = max(options)
            return arch
    return None


def plot_fbnet_channels(arch: dict, title: str = 'FBNetV2') -> Figure:
    """Bars of the chosen output channels per block (coloured by stage),
    the largest option as an outline and the hidden (expanded) width as
    dots when the arch gives them."""
    blocks = fbnet_blocks(arch)
    x = np.arange(len(blocks))
    fig = Figure(figsize=(max(4.0, 0.32 * len(blocks) + 1.5), 3.0), dpi=80)
    ax = fig.add_subplot()
    cmap = colormaps['tab10']
    colors = [cmap(b['stage'] % 10) for b in blocks]
    maxima = [b.get('max_out_channels') for b in blocks]
    if any(m is not None for m in maxima):
        ax.bar(
            x, [m or 0 for m in maxima],
            color='none',
            edgecolor='0.4',
            ls='--',
            lw=0.8,
            label='largest option')
    ax.bar(
        x, [b['out_channels'] for b in blocks],
        color=colors,
        label='chosen out channels')
    for i, b in enumerate(blocks):
        ax.text(
            i,
            b['out_channels'],
            str(b['out_channels']),
            ha='center',
            va='bottom',
            fontsize=6)
    mids = [b.get('mid_channels') for b in blocks]
    if any(m is not None for m in mids):
        ax2 = ax.twinx()
        ax2.plot([i for i, m in enumerate(mids) if m is not None],
                 [m for m in mids if m is not None],
                 'k.',
                 ms=5)
        ax2.set_ylabel('hidden channels (dots)', fontsize=7)
        ax2.tick_params(labelsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels(
        [f's{b["stage"] + 1}.{i}' for i, b in enumerate(blocks)],
        rotation=90,
        fontsize=6)
    ax.set_ylabel('output channels', fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=6, loc='upper left')
    fig.tight_layout()
    return fig
