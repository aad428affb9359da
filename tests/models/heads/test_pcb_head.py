"""PCB part pooling, refined part pooling (RPP) and the PCB head."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.heads import PartPooling, PCBHead, RefinedPartPooling


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def stripe_means(x, parts):
    """Plain reference: the mean of each horizontal stripe, (B, C, P)."""
    h = x.shape[2] // parts
    return torch.stack(
        [x[:, :, p * h:(p + 1) * h].mean(dim=(2, 3)) for p in range(parts)],
        dim=2)


def test_part_pooling_averages_horizontal_stripes():
    x = torch.randn(2, 5, 12, 3)
    pooled = PartPooling(num_parts=6)((x, ))
    assert pooled.shape == (2, 5, 6)
    torch.testing.assert_close(pooled, stripe_means(x, 6))


def test_part_pooling_rejects_indivisible_height_and_bad_args():
    with pytest.raises(ValueError, match='not divisible'):
        PartPooling(num_parts=6)(torch.randn(1, 2, 8, 4))
    with pytest.raises(ValueError, match='num_parts'):
        PartPooling(num_parts=0)
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        PartPooling()(torch.randn(2, 3, 6))


def test_rpp_probabilities_sum_to_one_and_pooling_is_weighted_mean():
    torch.manual_seed(0)
    rpp = RefinedPartPooling(in_channels=4, num_parts=3)
    torch.nn.init.normal_(rpp.part_classifier.weight)
    x = torch.randn(2, 4, 6, 2)
    prob = rpp.part_probabilities(x)
    assert prob.shape == (2, 3, 6, 2)
    torch.testing.assert_close(prob.sum(1), torch.ones(2, 6, 2))
    assert (prob > 0).all()
    # Plain reference, one part and one sample at a time.
    pooled = rpp(x)
    for b in range(2):
        for p in range(3):
            w = prob[b, p]
            expected = (x[b] * w).sum(dim=(1, 2)) / w.sum()
            torch.testing.assert_close(pooled[b, :, p], expected)


def test_rpp_with_a_hard_stripe_assignment_equals_pcb_pooling():
    parts, h = 3, 6
    x = torch.randn(2, 5, h, 4)
    # Channels 0-2 mark each position's stripe; the part classifier reads
    # them with a large gain, so the softmax is (numerically) one-hot.
    rows = torch.arange(h) // (h // parts)
    x[:, :parts] = F.one_hot(rows, parts).T[None, :, :, None].float()
    rpp = RefinedPartPooling(in_channels=5, num_parts=parts)
    with torch.no_grad():
        rpp.part_classifier.weight.zero_()
        rpp.part_classifier.bias.zero_()
        for p in range(parts):
            rpp.part_classifier.weight[p, p] = 100.0
    torch.testing.assert_close(rpp(x), PartPooling(parts)(x))


def reference_reduce(head, pooled):
    """Plain reference of the eval-mode reduction: conv, BN, ReLU."""
    conv, bn = head.reduction[0], head.reduction[1]
    parts = []
    rows = conv.weight.shape[0] // (1 if head.share_reduction else
                                    head.num_parts)
    for p in range(head.num_parts):
        # Shared: one weight for all parts; else rows [p R, (p+1) R].
        sl = slice(None) if head.share_reduction else slice(
            p * rows, (p + 1) * rows)
        weight = conv.weight[sl, :, 0]
        g = pooled[:, :, p]
        z = g @ weight.T
        z = (z - bn.running_mean[sl]) / torch.sqrt(bn.running_var[sl] + bn.eps)
        parts.append(F.relu(z * bn.weight[sl] + bn.bias[sl]))
    return torch.stack(parts, dim=2)


@pytest.mark.parametrize('share', [True, False])
def test_pcb_head_loss_is_sum_of_part_cross_entropies(share):
    torch.manual_seed(0)
    head = PCBHead(
        num_classes=5,
        in_channels=6,
        num_parts=3,
        reduced_channels=4,
        share_reduction=share)
    head.init_weights()
    with torch.no_grad():
        # Non-trivial BN statistics and affine parameters.
        bn = head.reduction[1]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
        for classifier in head.classifiers:
            classifier.weight.normal_()
    head.eval()
    pooled = torch.randn(4, 6, 3)
    labels = torch.tensor([0, 1, 4, 2])
    reduced = reference_reduce(head, pooled)
    torch.testing.assert_close(head.reduce(pooled), reduced)
    expected = sum(
        F.cross_entropy(head.classifiers[p](reduced[:, :, p]), labels)
        for p in range(3))
    losses = head.loss(pooled, samples(labels))
    assert set(losses) == {'loss_pcb'}
    torch.testing.assert_close(losses['loss_pcb'], expected)
    logits = head(pooled)
    assert len(logits) == 3 and logits[0].shape == (4, 5)
    # Test features: part-major concatenation.
    feats = head.test_features(pooled)
    assert feats.shape == (4, 12)
    torch.testing.assert_close(feats[:, 4:8], reduced[:, :, 1])


def test_pcb_head_unshared_reduction_has_one_conv_per_part():
    head = PCBHead(
        num_classes=2,
        in_channels=6,
        num_parts=3,
        reduced_channels=4,
        share_reduction=False)
    assert head.reduction[0].weight.shape == (12, 6, 1)
    shared = PCBHead(
        num_classes=2, in_channels=6, num_parts=3, reduced_channels=4)
    assert shared.reduction[0].weight.shape == (4, 6, 1)


def test_pcb_head_pooled_test_feature_and_errors():
    head = PCBHead(
        num_classes=3,
        in_channels=6,
        num_parts=2,
        reduced_channels=4,
        test_feature='pooled')
    pooled = torch.randn(2, 6, 2)
    torch.testing.assert_close(
        head.test_features(pooled),
        torch.cat([pooled[:, :, 0], pooled[:, :, 1]], dim=1))
    with pytest.raises(ValueError, match='num_classes'):
        head.loss(pooled, samples([0, 3]))
    with pytest.raises(ValueError, match=r'\(B, 6, 2\)'):
        head.reduce(torch.randn(2, 6, 3))
    with pytest.raises(ValueError, match='test_feature'):
        PCBHead(num_classes=3, test_feature='post_bn')
