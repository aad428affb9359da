import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.losses.triplet_loss import TripletLoss
from mmattn.registry import MODELS


def build(**kwargs):
    cfg = dict(type='TransReIDHead', num_classes=4, in_channels=8)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def feats(batch=8, parts=4, dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(batch, dim, generator=gen) for _ in range(1 + parts))


def test_structure():
    head = build()
    assert len(head.bnnecks) == 5 and len(head.classifiers) == 5
    assert all(fc.bias is None for fc in head.classifiers)
    assert all(not bn.bias.requires_grad for bn in head.bnnecks)
    logits = head(feats())
    assert len(logits) == 5 and logits[0].shape == (8, 4)


def test_losses_weight_global_and_mean_local():
    head = build(loss_id=dict(type='CrossEntropyLoss', loss_weight=1.0))
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    x = feats()
    losses = head.loss(x, samples(labels))
    assert set(losses) == {'loss_id', 'loss_triplet'}

    # Reference: BatchNorm1d in training mode by hand, then plain CE.
    ces, tris = [], []
    triplet = TripletLoss(margin=0.3)
    for k, f in enumerate(x):
        bn = head.bnnecks[k]
        post = (f - f.mean(0)) / torch.sqrt(f.var(0, unbiased=False) +
                                            bn.eps) * bn.weight + bn.bias
        ces.append(
            F.cross_entropy(post @ head.classifiers[k].weight.t(), labels))
        tris.append(triplet(f, labels))
    expected_id = 0.5 * ces[0] + 0.5 * sum(ces[1:]) / 4
    expected_tri = 0.5 * tris[0] + 0.5 * sum(tris[1:]) / 4
    torch.testing.assert_close(losses['loss_id'], expected_id)
    torch.testing.assert_close(losses['loss_triplet'], expected_tri)

    x = tuple(f.requires_grad_() for f in feats())
    sum(head.loss(x, samples(labels)).values()).backward()
    assert all(f.grad.abs().sum() > 0 for f in x)


def test_global_weight_and_disabled_loss():
    head = build(
        global_weight=1.0,
        loss_triplet=None,
        loss_id=dict(type='CrossEntropyLoss'))
    labels = torch.tensor([0, 1, 2, 3])
    x = feats(batch=4)
    losses = head.loss(x, samples(labels))
    assert set(losses) == {'loss_id'}
    # Only the global branch counts (training-mode BN in both calls).
    torch.testing.assert_close(losses['loss_id'],
                               F.cross_entropy(head(x)[0], labels))


def test_test_feature_concatenates_global_and_scaled_locals():
    head = build().eval()
    x = feats(batch=3)
    post = [head.bnnecks[k](f) for k, f in enumerate(x)]
    got = head.test_feature(x, 'post_bn')
    assert got.shape == (3, 40)
    torch.testing.assert_close(
        got, torch.cat([post[0]] + [p / 4 for p in post[1:]], 1))
    got = head.test_feature(x, 'pre_bn')
    torch.testing.assert_close(got,
                               torch.cat([x[0]] + [f / 4 for f in x[1:]], 1))


def test_errors_name_the_config_keys():
    head = build()
    with pytest.raises(ValueError, match='num_parts'):
        head.loss(feats(parts=2), samples([0, 0, 1, 1, 2, 2, 3, 3]))
    with pytest.raises(ValueError, match='model.head.num_classes'):
        head.loss(feats(), samples([0, 0, 1, 1, 2, 2, 9, 9]))
    with pytest.raises(ValueError, match='at least one loss'):
        build(loss_id=None, loss_triplet=None)
    with pytest.raises(ValueError, match='global_weight'):
        build(global_weight=1.5)
    with pytest.raises(ValueError, match="'post_bn' or 'pre_bn'"):
        head.test_feature(feats(), 'raw')
