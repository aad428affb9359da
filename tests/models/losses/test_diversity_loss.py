import pytest
import torch

from mmattn.models.attentions.stra import (StructureRegularizedAttention,
                                           collect_mode_masks)
from mmattn.models.losses import DiversityLoss
from mmattn.registry import MODELS


def test_diversity_loss_identical_masks_is_g_minus_one():
    g, hw = 4, 6
    masks = torch.full((2, g, hw), 1.0 / hw)
    assert torch.allclose(DiversityLoss()(masks), torch.tensor(g - 1.0))
    # identical but peaked masks too: sum_ij max_g M = sum_ij M^1 = 1
    peaked = torch.tensor([0.7, 0.1, 0.1, 0.05, 0.05, 0.0])
    masks = peaked.expand(2, g, hw)
    assert torch.allclose(DiversityLoss()(masks), torch.tensor(g - 1.0))


def test_diversity_loss_disjoint_masks_is_zero():
    g, hw = 3, 6
    masks = torch.zeros(1, g, hw)
    masks[0, 0, 0:2] = 0.5
    masks[0, 1, 2:5] = 1.0 / 3
    masks[0, 2, 5] = 1.0
    assert torch.allclose(DiversityLoss()(masks), torch.tensor(0.0))


def test_diversity_loss_disjoint_one_hot_masks_is_zero():
    g, hw = 4, 9
    positions = torch.tensor([[0, 3, 5, 8], [7, 1, 2, 4]])  # distinct per row
    masks = torch.zeros(2, g, hw)
    masks.scatter_(2, positions.unsqueeze(2), 1.0)
    assert torch.equal(DiversityLoss()(masks), torch.tensor(0.0))
    # two modes on the same position: one mode's mass (1) is not counted
    masks[1, 1] = masks[1, 0]
    assert torch.allclose(DiversityLoss()(masks), torch.tensor(0.5))


@pytest.mark.parametrize('g', [1, 2, 8])
def test_diversity_loss_lies_in_zero_to_g_minus_one(g):
    gen = torch.Generator().manual_seed(g)
    # soft masks from flat to nearly one-hot
    for temperature in (0.01, 1.0, 100.0):
        logits = torch.randn(16, g, 12, generator=gen) / temperature
        loss = DiversityLoss()(logits.softmax(dim=-1))
        assert -1e-6 <= loss.item() <= g - 1 + 1e-6
    one_hot = torch.zeros(16, g, 12)
    one_hot.scatter_(2, torch.randint(0, 12, (16, g, 1), generator=gen), 1)
    loss = DiversityLoss()(one_hot)
    assert 0 <= loss.item() <= g - 1


def test_diversity_loss_hand_computed_value():
    # G = 2, HW = 4: max per position [0.5, 0.5, 0.25, 0.25] -> 2 - 1.5
    m1 = torch.tensor([0.5, 0.5, 0.0, 0.0])
    m2 = torch.full((4, ), 0.25)
    masks = torch.stack([m1, m2])[None]
    assert torch.allclose(DiversityLoss()(masks), torch.tensor(0.5))
    # (B, G, H, W) input is the same
    assert torch.allclose(DiversityLoss()(masks.view(1, 2, 2, 2)),
                          torch.tensor(0.5))


def test_diversity_loss_batch_mean_block_sum_and_weight():
    g, hw = 2, 4
    identical = torch.full((1, g, hw), 0.25)  # loss 1
    disjoint = torch.tensor([[[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]]])  # loss 0
    batch = torch.cat([identical, disjoint])  # mean over batch: 0.5
    loss = DiversityLoss(loss_weight=2.0)([batch, identical])
    assert torch.allclose(loss, torch.tensor(2.0 * (0.5 + 1.0)))


def test_diversity_loss_gradient_reaches_the_maximal_mode():
    masks = torch.tensor([[[0.6, 0.4], [0.3, 0.7]]], requires_grad=True)
    DiversityLoss()(masks).backward()
    expected = torch.tensor([[[-1.0, 0.0], [0.0, -1.0]]])
    assert torch.equal(masks.grad, expected)


def test_diversity_loss_errors():
    with pytest.raises(ValueError, match='no mode masks'):
        DiversityLoss()([])
    with pytest.raises(ValueError, match=r'\(B, G, HW\)'):
        DiversityLoss()(torch.rand(2, 4))


def test_diversity_loss_on_stra_masks():
    torch.manual_seed(0)
    loss_fn = MODELS.build(dict(type='DiversityLoss', loss_weight=1.0))
    model = torch.nn.Sequential(
        StructureRegularizedAttention(16, groups=4),
        StructureRegularizedAttention(16, groups=4))
    model(torch.randn(2, 16, 4, 4))
    masks = collect_mode_masks(model)
    assert len(masks) == 2
    loss = loss_fn(masks)
    # each block contributes a value in [0, G - 1]
    assert 0.0 <= loss.item() <= 2 * 3.0
    loss.backward()
    grad = model[0].mode_attention.mask_net[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0
