"""Class selectivity index (Morcos et al. 2018) against hand computations."""
import pytest
import torch
import torch.nn as nn

from mmattn.analysis.selectivity import (class_means, find_layers,
                                         layer_selectivity,
                                         layer_unit_activations,
                                         selectivity_index)


def test_index_matches_a_hand_computation():
    # 3 classes, 2 images each; unit 0 fires for class 1 only, unit 1 for
    # every class alike, unit 2 is dead, unit 3 is mixed.
    acts = torch.tensor([
        [0., 2., 0., 1.],
        [0., 2., 0., 3.],  # class 0
        [4., 2., 0., 0.],
        [6., 2., 0., 2.],  # class 1
        [0., 2., 0., 5.],
        [0., 2., 0., 5.],  # class 2
    ])
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    means = class_means(acts, labels)
    torch.testing.assert_close(
        means,
        torch.tensor([[0., 2., 0., 2.], [5., 2., 0., 1.], [0., 2., 0., 5.]],
                     dtype=torch.float64))
    sel = selectivity_index(means)
    # unit 0: mu_max 5, mu_-max 0 -> 1; unit 1: 0; unit 3: max 5, rest
    # (2 + 1) / 2 = 1.5 -> 3.5 / 6.5.
    assert sel['index'][0] == pytest.approx(1.0)
    assert sel['index'][1] == pytest.approx(0.0)
    assert torch.isnan(sel['index'][2]) and sel['dead'].tolist() == [
        False, False, True, False
    ]
    assert sel['index'][3] == pytest.approx(3.5 / 6.5)
    layer = layer_selectivity({'l': acts}, labels)['l']
    assert layer['mean'] == pytest.approx((1 + 0 + 3.5 / 6.5) / 3)
    assert layer['units'] == 4 and layer['dead'] == 1
    assert layer['index'][2] is None


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match='at least one image'):
        class_means(torch.ones(2, 3), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match=r'\(N, U\)'):
        class_means(torch.ones(2, 3), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match='non-negative'):
        selectivity_index(torch.tensor([[1., -1.], [0., 2.]]))
    with pytest.raises(ValueError, match='K >= 2'):
        selectivity_index(torch.ones(1, 3))
    with pytest.raises(ValueError, match="layer 'x'"):
        layer_selectivity({'x': -torch.ones(2, 1)}, torch.tensor([0, 1]))


class Tiny(nn.Module):

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()))

    def extract_feat(self, x):
        return self.layer1(x)


def test_layer_activations_are_spatial_channel_means():
    torch.manual_seed(0)
    model = Tiny()
    layers = find_layers(model)
    assert list(layers) == ['layer1.0']
    batches = [torch.randn(2, 3, 4, 4), torch.randn(3, 3, 4, 4)]
    acts = layer_unit_activations(model, layers, batches)['layer1.0']
    expected = torch.cat([model.layer1(b).mean((2, 3)) for b in batches])
    torch.testing.assert_close(acts, expected)
    with pytest.raises(ValueError, match='not module paths'):
        find_layers(model, ['layer9'])
    with pytest.raises(ValueError, match='matches'):
        find_layers(model, pattern=r'stage\d')
