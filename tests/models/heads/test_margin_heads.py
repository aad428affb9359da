"""Softmax / CosFace / ArcFace heads against their plain formulas."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.heads import ArcFaceHead, CosFaceHead, SoftmaxFaceHead
from mmattn.registry import MODELS


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def reference_logits(feats, weight, labels, kind, s, m, easy=False):
    """Per-element loops over the textbook formulas, in double."""
    out = torch.zeros(len(feats), len(weight), dtype=torch.float64)
    for i, f in enumerate(feats.double()):
        for j, w in enumerate(weight.double()):
            cos = float(f @ w / (f.norm() * w.norm()))
            if j == labels[i]:
                theta = math.acos(max(-1.0, min(1.0, cos)))
                if kind == 'cosface':
                    cos = cos - m
                elif easy:
                    cos = math.cos(theta + m) if cos > 0 else cos
                elif theta + m <= math.pi:
                    cos = math.cos(theta + m)
                else:
                    cos = cos - math.sin(m) * m
            out[i, j] = s * cos
    return out


def test_softmax_head_is_linear_cross_entropy():
    torch.manual_seed(0)
    head = SoftmaxFaceHead(num_classes=5, in_channels=8)
    feats, labels = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    losses = head.loss((feats, ), samples(labels))
    logits = feats @ head.fc.weight.T + head.fc.bias
    expected = F.cross_entropy(logits, labels)
    torch.testing.assert_close(losses['loss_cls'], expected)
    assert losses['accuracy_top1'] == pytest.approx(
        (logits.argmax(1) == labels).float().mean().item() * 100)


@pytest.mark.parametrize('kind,cls,kwargs', [
    ('cosface', CosFaceHead, dict(scale=64.0, margin=0.35)),
    ('cosface', CosFaceHead, dict(scale=20.0, margin=0.2)),
    ('arcface', ArcFaceHead, dict(scale=64.0, margin=0.5)),
    ('arcface', ArcFaceHead, dict(scale=20.0, margin=0.15)),
])
def test_margin_heads_match_reference(kind, cls, kwargs):
    torch.manual_seed(1)
    head = cls(num_classes=7, in_channels=6, **kwargs)
    feats = torch.randn(9, 6)
    labels = torch.randint(0, 7, (9, ))
    # Make some target cosines strongly negative to hit ArcFace's fallback
    # branch (theta + m > pi).
    with torch.no_grad():
        head.weight[labels[:3]] = -feats[:3] + 0.01 * torch.randn(3, 6)
    expected = reference_logits(feats, head.weight.detach(), labels, kind,
                                kwargs['scale'], kwargs['margin'])
    got = head.logits(feats, labels)
    torch.testing.assert_close(got.double(), expected, atol=1e-4, rtol=1e-4)
    loss = head.loss(feats, samples(labels))['loss_cls']
    torch.testing.assert_close(
        loss.double(), F.cross_entropy(expected, labels), atol=1e-4, rtol=1e-4)
    # Without labels: no margin.
    plain = reference_logits(feats, head.weight.detach(), [-1] * 9, kind,
                             kwargs['scale'], 0.0)
    torch.testing.assert_close(
        head(feats).double(), plain, atol=1e-4, rtol=1e-4)


def test_arcface_easy_margin_and_gradients():
    torch.manual_seed(2)
    head = ArcFaceHead(
        num_classes=4, in_channels=5, margin=0.5, easy_margin=True)
    feats = torch.randn(8, 5)
    labels = torch.randint(0, 4, (8, ))
    expected = reference_logits(
        feats, head.weight.detach(), labels, 'arcface', 64.0, 0.5, easy=True)
    torch.testing.assert_close(
        head.logits(feats, labels).double(), expected, atol=1e-4, rtol=1e-4)
    feats.requires_grad_(True)
    head.loss(feats, samples(labels))['loss_cls'].backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0
    assert torch.isfinite(head.weight.grad).all()


def test_margin_penalises_the_target():
    torch.manual_seed(3)
    for cls in (CosFaceHead, ArcFaceHead):
        head = cls(num_classes=3, in_channels=4)
        feats = torch.randn(5, 4)
        labels = torch.tensor([0, 1, 2, 0, 1])
        with torch.no_grad():
            head.weight[labels] = feats  # targets near cos = 1
        with_margin = head.logits(feats, labels)
        plain = head.logits(feats)
        rows = torch.arange(5)
        assert (with_margin[rows, labels] < plain[rows, labels]).all()
        off = ~F.one_hot(labels, 3).bool()
        torch.testing.assert_close(with_margin[off], plain[off])


def test_registered_and_bad_arguments():
    head = MODELS.build(dict(type='ArcFaceHead', num_classes=3, in_channels=4))
    assert isinstance(head, ArcFaceHead)
    with pytest.raises(ValueError, match='num_classes'):
        CosFaceHead(num_classes=0)
    with pytest.raises(ValueError, match='margin'):
        ArcFaceHead(num_classes=3, margin=1.5)
    with pytest.raises(ValueError, match='scale'):
        CosFaceHead(num_classes=3, scale=0)
    with pytest.raises(ValueError, match=r'\(B, 4\)'):
        CosFaceHead(
            num_classes=3,
            in_channels=4).loss(torch.randn(2, 5), samples([0, 1]))
    with pytest.raises(ValueError, match='labels must be in'):
        CosFaceHead(
            num_classes=3,
            in_channels=4).loss(torch.randn(2, 4), samples([0, 3]))
