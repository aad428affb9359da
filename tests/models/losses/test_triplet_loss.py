import math

import pytest
import torch

from mmattn.models.losses import TripletLoss


def reference_batch_hard(feats, labels, margin):
    """Plain per-anchor loops over Euclidean distances."""
    n = len(labels)
    losses = []
    for a in range(n):
        d = [float(torch.dist(feats[a], feats[j])) for j in range(n)]
        pos = [d[j] for j in range(n) if j != a and labels[j] == labels[a]]
        neg = [d[j] for j in range(n) if labels[j] != labels[a]]
        if not pos or not neg:
            continue
        gap = max(pos) - min(neg)
        losses.append(
            max(0., gap +
                margin) if margin is not None else math.log1p(math.exp(gap)))
    return sum(losses) / len(losses)


@pytest.mark.parametrize('margin', [0.3, None])
def test_matches_reference(margin):
    torch.manual_seed(0)
    feats = torch.randn(12, 5, dtype=torch.float64)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4])
    loss = TripletLoss(margin=margin, loss_weight=2.0)(feats, labels)
    assert loss.item() == pytest.approx(
        2 * reference_batch_hard(feats, labels, margin), rel=1e-9)


def test_gradient_reaches_features():
    feats = torch.randn(8, 4, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    assert torch.autograd.gradcheck(
        lambda f: TripletLoss(margin=None)(f, labels), (feats, ))


def test_batch_without_positives_is_an_error():
    with pytest.raises(ValueError, match='PKSampler'):
        TripletLoss()(torch.randn(4, 3), torch.arange(4))
