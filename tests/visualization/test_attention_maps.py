"""CSA reconstructed attention (seed 002 eq. 4) and StRA mode maps."""
import pytest
import torch
import torch.nn as nn

from mmattn.models.attentions import (CompressedSelfAttention,
                                      StructureRegularizedAttention)
from mmattn.visualization import attention_maps as maps_api


def csa_block(groups=2):
    torch.manual_seed(0)
    block = CompressedSelfAttention(
        8, num_bases=3, groups=groups, alpha_init=1.0).eval()
    return block, torch.randn(2, 8, 5, 4)


def test_reconstructed_attention_is_the_direct_map_and_a_distribution():
    block, x = csa_block()
    indices = [0, 7, 19]
    maps = maps_api.csa_reconstructed_attention(block, x, indices)
    assert maps['base_maps'].shape == (2, 2, 3, 5, 4)
    assert maps['attention'].shape == (2, 2, 3, 5, 4)
    # Direct computation: softmaxes of the 1x1 conv logits by hand.
    logits = block.base_conv(x).view(2, 2, 3, 20)
    bases = logits.exp() / logits.exp().sum(-1, keepdim=True)
    weights = logits.exp() / logits.exp().sum(2, keepdim=True)
    for p, i in enumerate(indices):
        direct = sum(weights[:, :, k, i, None] * bases[:, :, k]
                     for k in range(3))
        torch.testing.assert_close(maps['attention'][:, :, p].flatten(2),
                                   direct)
    sums = maps['attention'].flatten(3).sum(-1)
    torch.testing.assert_close(sums, torch.ones_like(sums))
    base_sums = maps['base_maps'].flatten(3).sum(-1)
    torch.testing.assert_close(base_sums, torch.ones_like(base_sums))
    torch.testing.assert_close(maps['weight_totals'], weights.sum(-1))


def test_full_attention_rows_give_the_module_output():
    block, x = csa_block()
    full = maps_api.csa_full_attention(block, x)  # (B, G, HW, HW)
    rows = maps_api.csa_reconstructed_attention(block, x,
                                                range(20))['attention']
    torch.testing.assert_close(rows.flatten(3), full)
    # O = alpha * V A^T + x with alpha = 1: the map is the one CSA uses.
    values = block.value_conv(x).view(2, 2, 4, 20)
    y = (values @ full.transpose(-1, -2)).reshape(x.shape)
    torch.testing.assert_close(block(x), y + x)


def test_bad_positions_and_pixels_are_refused():
    block, x = csa_block()
    with pytest.raises(ValueError, match=r'\[0, 20\)'):
        maps_api.csa_reconstructed_attention(block, x, [20])
    with pytest.raises(ValueError, match='fractions'):
        maps_api.pixel_indices([(1.5, 0.2)], 5, 4)
    assert maps_api.pixel_indices([(0, 0), (1, 1), (0.5, 0.5)], 5,
                                  4) == [0, 19, 10]


def test_dominant_base_finds_the_identical_map():
    bases = torch.tensor([[1., 0, 0], [0, 1, 0], [0, 0, 1]])
    attention = torch.tensor([[0.1, 0.8, 0.1], [0.9, 0.05, 0.05]])
    index, sim = maps_api.dominant_base(attention, bases)
    assert index.tolist() == [1, 0]
    assert (sim > 0.9).all()


def test_stra_mode_maps_follow_the_submodules():
    torch.manual_seed(0)
    block = StructureRegularizedAttention(16, groups=4).eval()
    x = torch.randn(1, 16, 6, 5)
    maps = maps_api.stra_mode_maps(block, x)
    local = block.local_attention(x)
    torch.testing.assert_close(maps['local'],
                               local.abs().view(1, 4, 4, 6, 5).mean(2))
    torch.testing.assert_close(maps['output'],
                               block(x).abs().view(1, 4, 4, 6, 5).mean(2))
    sums = maps['masks'].flatten(2).sum(-1)
    torch.testing.assert_close(sums, torch.ones_like(sums))
    torch.testing.assert_close(maps['masks'].flatten(2), block.last_mode_masks)
    local_only = StructureRegularizedAttention(
        16, groups=4, use_mode_attention=False).eval()
    maps = maps_api.stra_mode_maps(local_only, x)
    assert maps['masks'] is None
    torch.testing.assert_close(maps['local'], maps['output'])


def test_find_and_capture_module_inputs():
    block, x = csa_block()
    model = nn.Sequential(nn.Conv2d(8, 8, 1), block)
    found = maps_api.find_modules(model, CompressedSelfAttention)
    assert list(found) == ['1']
    inputs = maps_api.capture_inputs(model, found, lambda: model(x))
    torch.testing.assert_close(inputs['1'], model[0](x))
    with pytest.raises(ValueError, match='contains no'):
        maps_api.find_modules(model, StructureRegularizedAttention)
    with pytest.raises(ValueError, match='not CompressedSelfAttention'):
        maps_api.find_modules(model, CompressedSelfAttention, ['0'])
    with pytest.raises(ValueError, match='not called'):
        maps_api.capture_inputs(model, found, lambda: None)


def test_upsample_maps_scales_to_unit_range():
    maps = torch.tensor([[[0., 1.], [2., 4.]]])
    up = maps_api.upsample_maps(maps, (4, 4))
    assert up.shape == (1, 4, 4) and up.max() == pytest.approx(1.0)
    mm = maps_api.upsample_maps(maps + 3, (2, 2), 'minmax')
    assert mm.min() == pytest.approx(0) and mm.max() == pytest.approx(1)
    with pytest.raises(ValueError, match='normalise'):
        maps_api.upsample_maps(maps, (2, 2), 'sum')
