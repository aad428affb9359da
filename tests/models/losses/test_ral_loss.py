"""Robust angular loss (RAL-Net, seed 002 tables 7-8 base model)."""
import pytest
import torch
import torch.nn.functional as F

from mmattn.models.losses import HardNetLoss, RobustAngularLoss


def test_loss_is_one_minus_tanh_of_relative_cosine_similarity():
    torch.manual_seed(0)
    anchors = torch.randn(6, 8)
    positives = anchors + 0.3 * torch.randn(6, 8)
    loss = RobustAngularLoss(scale=2.0)(anchors, positives)
    a, p = F.normalize(anchors, dim=1), F.normalize(positives, dim=1)
    expected = []
    for i in range(6):
        negative = max(
            max(float(a[i] @ p[j]), float(a[j] @ p[i])) for j in range(6)
            if j != i)
        expected.append(1 - torch.tanh(2.0 * (a[i] @ p[i] - negative)))
    assert torch.allclose(loss, torch.stack(expected).mean())


def test_labels_exclude_pairs_of_the_same_point():
    torch.manual_seed(1)
    anchors = torch.randn(4, 8)
    positives = anchors.clone()
    positives[1] = anchors[0]  # pair 1 repeats point 0
    labels = torch.tensor([0, 0, 1, 2])
    loss_fn = RobustAngularLoss()
    # Without labels pair 0's negative is its own duplicate (cosine 1).
    assert loss_fn(anchors, positives) > loss_fn(anchors, positives, labels)
    with pytest.raises(ValueError, match='no negative'):
        loss_fn(anchors[:2], positives[:2], labels[:2])


def test_wrong_correspondences_get_a_bounded_vanishing_gradient():
    """The reason for the loss: a wrong correspondence (a positive far less
    similar than the hardest negative) keeps the hinge's unit gradient but
    gets little gradient from the robust loss (1 - tanh saturates)."""
    a1 = torch.tensor([0.9, 0.19**0.5])
    anchors = torch.stack([torch.tensor([1., 0.]), a1])

    def gradient_on_first_positive(loss_fn, first):
        # Pair 0's hardest negative has cosine 0.9 (anchor 0 vs positive 1).
        positives = torch.stack([first, a1]).requires_grad_()
        loss = loss_fn(anchors, positives)
        loss.backward()
        return loss, positives.grad[0].norm()

    wrong = torch.tensor([-0.8, 0.6])  # cosine -0.8: relative -1.7
    borderline = torch.tensor([0.9, -(0.19**0.5)])  # relative 0
    ral = RobustAngularLoss()
    loss, ral_wrong = gradient_on_first_positive(ral, wrong)
    _, ral_borderline = gradient_on_first_positive(ral, borderline)
    assert loss < 2
    assert ral_wrong < 0.2 * ral_borderline
    _, hinge_wrong = gradient_on_first_positive(HardNetLoss(), wrong)
    _, hinge_borderline = gradient_on_first_positive(HardNetLoss(), borderline)
    assert hinge_wrong > 0.8 * hinge_borderline


def test_bad_inputs():
    with pytest.raises(ValueError, match='scale must be positive'):
        RobustAngularLoss(scale=0)
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        RobustAngularLoss()(torch.randn(3, 4), torch.randn(3, 5))
