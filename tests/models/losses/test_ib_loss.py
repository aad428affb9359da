"""IBBoundLoss: the reconstructed form (default) and the separable bound."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmattn.engine.hooks import IBVariationalHook
from mmattn.models.losses import IBBoundLoss
from mmattn.models.losses.ib_loss import (centroids_from_sums, class_sums,
                                          soft_cluster_scores)


def cluster_features(labels, k, dim, spread, generator):
    """Class-clustered unit features with a random cluster strength."""
    centres = torch.randn(k, dim, generator=generator)
    noise = torch.randn(len(labels), dim, generator=generator)
    return F.normalize(noise + spread * centres[labels], dim=1)


def problem(counts, beta, seed):
    """A random IB problem: features X (input) and W (output) of N samples
    with class counts ``counts``, the hook's statistics and an installed
    loss of each form."""
    generator = torch.Generator().manual_seed(seed)
    k = len(counts)
    labels = torch.cat(
        [torch.full((int(c), ), y) for y, c in enumerate(counts)])
    spreads = torch.rand(2, generator=generator) * 3
    x = cluster_features(labels, k, 12, float(spreads[0]), generator)
    w = cluster_features(labels, k, 12, float(spreads[1]), generator)
    phi_in = soft_cluster_scores(x,
                                 centroids_from_sums(class_sums(x, labels, k)),
                                 beta)
    stats = {}
    for form in ('reconstructed', 'separable'):
        loss = IBBoundLoss(num_classes=k, beta=beta, bound=form)
        stats[form] = IBVariationalHook._output_tables(w, labels, phi_in,
                                                       phi_in, loss)
    return stats, loss, w, labels, phi_in


def imbalanced_counts(generator):
    """2-8 classes, one of them dominant (10-40 samples), the others 1-4."""
    k = int(torch.randint(2, 9, (1, ), generator=generator))
    counts = torch.randint(1, 5, (k, ), generator=generator)
    counts[int(torch.randint(0, k, (1, ), generator=generator))] = int(
        torch.randint(10, 41, (1, ), generator=generator))
    return counts.tolist()


def test_separable_bound_holds_on_random_imbalanced_problems():
    generator = torch.Generator().manual_seed(0)
    worst_separable, worst_reconstructed = math.inf, math.inf
    for trial in range(150):
        counts = imbalanced_counts(generator)
        beta = (1.0, 10.0, 30.0)[trial % 3]
        stats, *_ = problem(counts, beta, seed=trial)
        sep, rec = stats['separable'], stats['reconstructed']
        # The same tables and IB for both forms; each logs both bounds.
        assert sep['IB'] == rec['IB']
        assert sep['IBB'] == sep['IBB_separable'] == rec['IBB_separable']
        assert rec['IBB'] == rec['IBB_reconstructed']
        worst_separable = min(worst_separable,
                              sep['IBB_separable'] - sep['IB'])
        worst_reconstructed = min(worst_reconstructed,
                                  rec['IBB_reconstructed'] - rec['IB'])
    # float32 scores: the bound is tight up to rounding where phi_out is
    # nearly one-hot.
    assert worst_separable >= -1e-5, worst_separable
    # The reconstructed form is no bound: it falls below the IB.
    assert worst_reconstructed < -0.05, worst_reconstructed


def test_the_issue_case_34_2_2_2():
    """The imbalanced counts of issue 13: the reconstructed form falls below
    the IB on some of these problems, the separable one never does."""
    below = 0
    for seed in range(20):
        for beta in (1.0, 10.0):
            stats, *_ = problem([34, 2, 2, 2], beta, seed)
            sep = stats['separable']
            assert sep['IBB_separable'] >= sep['IB'] - 1e-5
            below += sep['IBB_reconstructed'] < sep['IB']
    assert below > 0


def test_separable_bound_holds_for_any_table():
    """The bound needs only that Q's columns are distributions: a random
    table (clamped entries included) keeps it above the IB."""
    generator = torch.Generator().manual_seed(1)
    for seed in range(40):
        counts = imbalanced_counts(generator)
        stats, loss, w, labels, phi_in = problem(counts, 1.0, seed)
        k = len(counts)
        table = torch.rand(k, k, generator=generator)**8
        table[0, :] = 0  # entries below eps
        table = table / table.sum(0, keepdim=True).clamp(min=1e-30)
        table[:, table.sum(0) == 0] = 1 / k
        loss.update_(loss.output_centroids, table, phi_in)
        phi_out = soft_cluster_scores(w, loss.output_centroids)
        value = float(
            loss.bounds(phi_out, phi_in, labels)['separable'].double().mean())
        assert value >= stats['separable']['IB'] - 1e-5


def test_only_the_separable_bound_depends_on_the_network():
    torch.manual_seed(0)
    k = 4
    loss = IBBoundLoss(num_classes=k)
    centroids = F.normalize(torch.randn(k, 8), dim=1)
    phi_in = torch.softmax(torch.randn(16, k), dim=1)
    loss.update_(centroids, torch.softmax(torch.randn(k, k), dim=0), phi_in)
    labels = torch.arange(16) % k
    index = torch.arange(16)
    grads = {}
    for form in ('reconstructed', 'separable'):
        feats = torch.randn(16, 8, requires_grad=True)
        phi_out = soft_cluster_scores(feats, centroids)
        # The I(X;W) part alone: the terms without Q.
        terms = loss.bounds(phi_out, phi_in,
                            labels)[form] + (phi_out * loss.table.clamp(
                                min=loss.eps).log()[:, labels].t()).sum(1) * (
                                    form == 'reconstructed')
        if form == 'separable':
            q = loss.table.clamp(min=loss.eps)
            terms = terms + (phi_out *
                             (q / q.sum(0)).log()[:, labels].t()).sum(1)
        terms.mean().backward()
        grads[form] = feats.grad.abs().max()
    # sum_a phi_out = 1: only rounding reaches the features.
    assert grads['reconstructed'] < 1e-6
    assert grads['separable'] > 1e-3

    # forward trains the configured form, eta times the batch mean.
    feats = torch.randn(16, 8)
    for form in ('reconstructed', 'separable'):
        loss.bound_form = form
        expected = loss.batch_bounds(feats, labels, index)[form]
        torch.testing.assert_close(loss(feats, labels, index), 0.1 * expected)


def test_bad_options_name_the_argument():
    with pytest.raises(ValueError, match="bound must be one of.*'kl'"):
        IBBoundLoss(num_classes=4, bound='kl')
    loss = IBBoundLoss(num_classes=4)
    with pytest.raises(RuntimeError, match='IBVariationalHook'):
        loss(torch.randn(2, 8), torch.tensor([0, 1]), torch.tensor([0, 1]))
