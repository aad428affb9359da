import pytest
import torch
import torch.nn.functional as F

from mmattn.models.losses.hardnet_loss import HardNetLoss
from mmattn.registry import MODELS


def loop_reference(anchors, positives, labels=None, margin=1.0):
    """HardNet loss, one pair at a time with explicit distances."""
    n = len(anchors)
    total = 0.0
    for i in range(n):
        pos = torch.dist(anchors[i], positives[i])
        negs = []
        for j in range(n):
            if j == i or (labels is not None and labels[j] == labels[i]):
                continue
            negs.append(torch.dist(anchors[i], positives[j]))  # row i
            negs.append(torch.dist(anchors[j], positives[i]))  # column i
        hardest = min(negs)
        total = total + max(margin + pos - hardest, torch.zeros(()))
    return total / n


def unit(n, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = F.normalize(torch.randn(n, d, generator=g, dtype=torch.double), dim=1)
    p = F.normalize(
        a + 0.5 * torch.randn(n, d, generator=g, dtype=torch.double), dim=1)
    return a, p


@pytest.mark.parametrize('n,margin', [(2, 1.0), (6, 1.0), (9, 0.5)])
def test_hardnet_loss_matches_loop_reference(n, margin):
    a, p = unit(n, seed=n)
    loss = HardNetLoss(margin=margin, eps=0.0)(a, p)
    assert torch.allclose(loss, loop_reference(a, p, margin=margin))
    assert loss > 0


def test_hardnet_loss_uses_the_column_minimum_too():
    # Pair 0's hardest negative is a_1 to p_0 (column 0), not in row 0.
    a = torch.tensor([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.0]])
    p = torch.tensor([[0.6, 0.8], [0.0, -1.0], [-0.6, -0.8]])
    loss = HardNetLoss(eps=0.0)(a, p)
    assert torch.allclose(loss, loop_reference(a, p).float())
    row_only = []
    dist = torch.cdist(a, p)
    for i in range(3):
        neg = min(dist[i, j] for j in range(3) if j != i)
        row_only.append((1 + dist[i, i] - neg).clamp(min=0))
    assert not torch.allclose(loss, torch.stack(row_only).mean())


def test_hardnet_loss_ignores_pairs_with_the_same_label():
    a, p = unit(7, seed=3)
    labels = torch.tensor([0, 1, 0, 2, 3, 1, 4])
    loss = HardNetLoss(eps=0.0)(a, p, labels)
    assert torch.allclose(loss, loop_reference(a, p, labels))
    assert not torch.allclose(loss, loop_reference(a, p))


def test_hardnet_loss_gradient():
    a, p = unit(5, seed=1)
    a.requires_grad_(True)
    p.requires_grad_(True)
    loss_fn = MODELS.build(dict(type='HardNetLoss', eps=1e-6))
    assert torch.autograd.gradcheck(lambda x, y: loss_fn(x, y), (a, p))


def test_hardnet_loss_errors():
    loss = HardNetLoss()
    with pytest.raises(ValueError, match='at least 2'):
        loss(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match='anchors and positives'):
        loss(torch.randn(3, 4), torch.randn(3, 5))
    with pytest.raises(ValueError, match='no negative'):
        loss(torch.randn(3, 4), torch.randn(3, 4), torch.zeros(3))
    with pytest.raises(ValueError, match='margin'):
        HardNetLoss(margin=0)
