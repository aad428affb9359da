import numpy as np
import pytest
import torch
import torch.nn as nn

from mmattn.models.attentions import (HOGA_GENOTYPES,
                                      FixedChannelWindowAttention,
                                      HOGAArchitecture, HOGAttention,
                                      MultiWindowAttention,
                                      bind_shared_architecture)
from mmattn.visualization import (WINDOW_TABLE_HEADER, collect_genotypes,
                                  collect_window_stats, fbnet_blocks,
                                  figure_to_image, format_markdown_table,
                                  plot_channel_windows, plot_fbnet_channels,
                                  plot_genotype, plot_table,
                                  plot_window_feature_map,
                                  plot_window_length_histograms,
                                  window_lengths, window_stats_table)


def da_model():
    searched = MultiWindowAttention(16, window_length=4)
    with torch.no_grad():
        # Windows (0, 4.3), (4, 3.6), (8, 1.2), (12, 3): rounded lengths
        # 4, 4, 1, 3 -> merged (0, 9) and (12, 3); channel 15 is free.
        searched.l_int.copy_(torch.tensor([4, 3, 1, 3]))
        searched.l_dec.copy_(torch.tensor([0.3, 0.6, 0.2, 0.0]))
        searched.s_dec.zero_()
    fixed = FixedChannelWindowAttention(8, windows=[(6, 4)])
    return nn.ModuleDict(dict(a=searched, b=fixed))


def test_window_stats_table_and_lengths():
    stats = collect_window_stats(da_model())
    assert list(stats) == ['a', 'b']
    assert stats['a']['windows'] == [(0, 9), (12, 3)]
    assert window_lengths(stats['a']) == dict(before=[4, 4, 1, 3],
                                              after=[9, 3])
    # A fixed module's window wraps around the 8 channels: 6, 7, 0, 1.
    assert stats['b']['windows'] == [(6, 4)]
    assert window_lengths(stats['b']) == dict(before=[], after=[4])
    rows = window_stats_table(stats)
    assert rows[0] == ('a', 16, 12.1, '4 -> 2', 12, 0.75)
    assert rows[1] == ('b', 8, 4.0, '1', 4, 0.5)
    table = format_markdown_table(WINDOW_TABLE_HEADER, rows)
    assert table.splitlines()[2] == '| a | 16 | 12.1 | 4 -> 2 | 12 | 0.75 |'
    for fig in (plot_channel_windows(stats),
                plot_window_length_histograms(stats),
                plot_table(WINDOW_TABLE_HEADER, rows),
                plot_window_feature_map(
                    np.random.rand(16, 4, 3),
                    stats['a']['windows'])):
        image = figure_to_image(fig)
        assert image.shape[0] > 50 and image.std() > 0


def test_plot_channel_windows_draws_the_merged_windows():
    stats = collect_window_stats(da_model())
    fig = plot_channel_windows(stats)
    ax = fig.axes[0]
    # Background bar + one bar per merged window piece, as channel fractions.
    bars = sorted((round(p.get_x(), 4), round(p.get_width(), 4))
                  for p in ax.patches if p.get_facecolor()[:3] != (
                      0.92, 0.92, 0.92))
    assert (0.0, round(9 / 16, 4)) in bars
    assert (0.75, round(3 / 16, 4)) in bars
    # b's wrapping window is drawn as two pieces: channels 6-7 and 0-1.
    assert (0.0, 0.25) in bars and (0.75, 0.25) in bars


def test_plot_genotype_labels_every_edge():
    genotype = HOGA_GENOTYPES['autola']
    fig = plot_genotype(genotype)
    texts = [t.get_text() for t in fig.axes[0].texts]
    labels = sorted(t for t in texts if t in set(genotype.ops))
    assert labels == sorted(genotype.ops)
    assert figure_to_image(fig).std() > 0


def test_collect_genotypes_fixed_and_searched():
    model = nn.ModuleDict(dict(
        a=HOGAttention(8, genotype='hog_se'),
        b=HOGAttention(8, genotype='hog_se'),
        c=HOGAttention(8, search=True)))
    arch = HOGAArchitecture(4)
    with torch.no_grad():
        arch.alpha.zero_()
        arch.alpha[:, arch.primitives.index('cbam')] = 1.0
    bind_shared_architecture(model, arch)
    found = collect_genotypes(model)
    assert list(found) == ['a', 'c']
    assert found['a'] == HOGA_GENOTYPES['hog_se']
    assert found['c'] == HOGA_GENOTYPES['hog_cbam']


def test_fbnet_channels_from_a_hand_made_arch():
    arch = dict(stages=[
        [dict(out_channels=16, mid_channels=16, max_out_channels=16)],
        [dict(out_channels=24, mid_channels=72, max_out_channels=28),
         dict(out_channels=20, mid_channels=60, max_out_channels=28)],
    ])
    blocks = fbnet_blocks(arch)
    assert [b['stage'] for b in blocks] == [0, 1, 1]
    flat = fbnet_blocks(dict(blocks=[dict(out_channels=8, expansion=3)]))
    assert flat == [dict(out_channels=8, expansion=3, stage=0)]
    fig = plot_fbnet_channels(arch)
    heights = [p.get_height() for p in fig.axes[0].patches]
    # Outlines of the largest options, then the chosen widths.
    assert heights == [16, 28, 28, 16, 24, 20]
    assert figure_to_image(fig).std() > 0
    for bad in (dict(stages=[[dict(mid_channels=3)]]), dict(x=1),
                dict(blocks=[])):
        with pytest.raises(ValueError):
            fbnet_blocks(bad)
