import numpy as np
import pytest
import torch
import torch.nn as nn

from mmattn.models.attentions import (HOGA_GENOTYPES,
                                      FixedChannelWindowAttention,
                                      HOGAArchitecture, HOGAttention,
                                      MultiWindowAttention,
                                      bind_shared_architecture)
from mmattn.models.backbones import FBNetV2Supernet
from mmattn.models.search import export_architecture
# yapf: disable
from mmattn.visualization import (WINDOW_TABLE_HEADER, collect_genotypes,
                                  collect_window_stats, fbnet_arch_from_model,
                                  fbnet_blocks, figure_to_image,
                                  format_markdown_table, plot_channel_windows,
                                  plot_fbnet_channels, plot_genotype,
                                  plot_table, plot_window_feature_map,
                                  plot_window_length_histograms,
                                  window_lengths,
                                  window_stats_from_architecture,
                                  window_stats_table)

# yapf: enable


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
    assert window_lengths(stats['a']) == dict(
        before=[4, 4, 1, 3], after=[9, 3])
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
                    np.random.rand(16, 4, 3), stats['a']['windows'])):
        image = figure_to_image(fig)
        assert image.shape[0] > 50 and image.std() > 0


def test_plot_channel_windows_draws_the_merged_windows():
    stats = collect_window_stats(da_model())
    fig = plot_channel_windows(stats)
    ax = fig.axes[0]
    # Background bar + one bar per merged window piece, as channel fractions.
    bars = sorted((round(p.get_x(), 4), round(p.get_width(), 4))
                  for p in ax.patches
                  if p.get_facecolor()[:3] != (0.92, 0.92, 0.92))
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
    model = nn.ModuleDict(
        dict(
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
        [
            dict(out_channels=24, mid_channels=72, max_out_channels=28),
            dict(out_channels=20, mid_channels=60, max_out_channels=28)
        ],
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


def tiny_supernet(**kwargs):
    """Three stages: a fixed 8-channel block, two blocks choosing 8 / 12 /
    16 channels and expansion 1 / 2 / 3, one block choosing 16 / 24."""
    arch = dict(
        stem_channels=8,
        head_channels=32,
        stages=[[[1, 8, 1, 1]], [[(1.0, 3.0, 1.0), (8, 16, 4), 2, 2]],
                [[(1.0, 2.0, 1.0), (16, 24, 8), 1, 2]]])
    return FBNetV2Supernet(
        arch=arch, out_indices=(3, ), flops_input_size=(32, 16), **kwargs)


def choose(supernet, choices):
    """Make the argmax of every searched block ``(width index, expansion
    index)``."""
    with torch.no_grad():
        blocks = [
            b for i in range(supernet.num_stages)
            for b in supernet.stage_blocks(i)
        ]
        for block, (c, e) in zip(blocks, choices):
            if block.channel_logits is not None:
                block.channel_logits.zero_()
                block.channel_logits[c] = 1.0
            if block.expand_logits is not None:
                block.expand_logits.zero_()
                block.expand_logits[e] = 1.0


def test_fbnet_arch_from_a_supernet():
    supernet = tiny_supernet()
    choose(supernet, [(0, 0), (2, 1), (1, 2), (1, 0)])
    # Wrapped like a backbone inside a model: the supernet is found.
    model = nn.ModuleDict(dict(backbone=nn.ModuleDict(dict(net=supernet))))
    arch = fbnet_arch_from_model(model)
    blocks = fbnet_blocks(arch)
    assert [b['out_channels'] for b in blocks] == [8, 16, 12, 24]
    assert [b['max_out_channels'] for b in blocks] == [8, 16, 16, 24]
    assert [b['stage'] for b in blocks] == [0, 1, 1, 2]
    # Hidden widths: expansion 2 of an 8-channel input, 3 of 16.
    assert [b['mid_channels'] for b in blocks] == [8, 16, 48, 16]
    fig = plot_fbnet_channels(arch)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [8, 16, 16, 24, 8, 16, 12, 24]
    assert fbnet_arch_from_model(da_model()) is None


def test_window_stats_from_an_exported_search_model():
    hoga = nn.ModuleList([HOGAttention(8, search=True) for _ in range(2)])
    shared = bind_shared_architecture(hoga, HOGAArchitecture(4))
    with torch.no_grad():
        shared.alpha.zero_()
        shared.alpha[:, shared.primitives.index('cbam')] = 1.0
    supernet = tiny_supernet()
    choose(supernet, [(0, 0), (1, 0), (1, 0), (0, 0)])
    model = nn.ModuleDict(dict(da=da_model(), hoga=hoga, fbnet=supernet))
    arch = export_architecture(model)
    stats = window_stats_from_architecture(arch)
    assert stats == {
        'da.' + k: v
        for k, v in collect_window_stats(model.da).items()
    }
    assert stats['da.a']['windows'] == [(0, 9), (12, 3)]
    assert arch['hoga']['genotype'] == HOGA_GENOTYPES['hog_cbam'].to_dict()
    # The exported FBNetV2 arch is the model's, less the largest options.
    from_model = fbnet_blocks(fbnet_arch_from_model(model))
    for block in from_model:
        block.pop('max_out_channels')
    assert fbnet_blocks(arch['fbnetv2']['fbnet']['arch']) == from_model
    assert [b['out_channels'] for b in from_model] == [8, 12, 12, 16]
    # A module pruned to a derived subnet's width keeps only its merged
    # windows: the searched ones are over the supernet width.
    pruned = dict(
        arch,
        da={
            'x':
            dict(
                in_channels=12,
                windows=[[0, 12]],
                stats=dict(
                    sum_length=12,
                    num_windows_before=2,
                    num_windows_after=1,
                    searched_in_channels=16,
                    searched_windows=[[0.0, 8.0], [8.0, 8.0]]))
        })
    assert window_stats_from_architecture(pruned)['x'] == dict(
        in_channels=12,
        sum_length=12,
        num_windows_before=2,
        num_windows_after=1,
        windows=[(0, 12)],
        searched_windows=None)
    for bad in (dict(da=[]), dict(da={'x': dict(windows=[[0, 1]])})):
        with pytest.raises(ValueError, match='da'):
            window_stats_from_architecture(bad)
