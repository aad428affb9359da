import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmattn.evaluation.metrics.fpr95 import FPR95Metric, fpr_at_recall
from mmattn.registry import METRICS


def sort_reference(distances, is_match, recall=0.95):
    """Walk the pairs in order of distance, declaring every pair up to the
    current one a match; stop at the first position where the recall
    reaches the target (all pairs at that distance included)."""
    order = sorted(range(len(distances)), key=lambda i: distances[i])
    n_pos = sum(is_match)
    n_neg = len(is_match) - n_pos
    for position, i in enumerate(order):
        threshold = distances[i]
        declared = [
            j for j in range(len(distances)) if distances[j] <= threshold
        ]
        tp = sum(is_match[j] for j in declared)
        if tp >= recall * n_pos - 1e-9:
            fp = sum(not is_match[j] for j in declared)
            return fp / n_neg
    raise AssertionError


@pytest.mark.parametrize('seed', range(5))
def test_fpr95_matches_sort_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 120))
    is_match = rng.random(n) < 0.5
    is_match[:2] = [True, False]
    distances = rng.normal(0.8, 0.3, n) - 0.4 * is_match
    if seed % 2:
        distances = np.round(distances, 1)  # many ties
    expected = sort_reference(list(distances), list(is_match))
    assert fpr_at_recall(distances, is_match) == pytest.approx(expected)


def test_fpr95_hand_example_and_hardnet_formula():
    # 20 positives at 0.1 .. 2.0, negatives at 0.05, 1.85, 1.95, 3.0:
    # the 19th positive (1.9) gives 95% recall; negatives <= 1.9: 2 of 4.
    pos = np.linspace(0.1, 2.0, 20)
    neg = np.array([0.05, 1.85, 1.95, 3.0])
    distances = np.r_[pos, neg]
    labels = np.r_[np.ones(20, bool), np.zeros(4, bool)]
    assert fpr_at_recall(distances, labels) == pytest.approx(0.5)
    # HardNet's ErrorRateAt95Recall on tie-free data gives the same.
    order = np.argsort(distances)
    sorted_labels = labels[order]
    idx = np.argmax(np.cumsum(sorted_labels) >= 0.95 * sorted_labels.sum())
    fp = np.sum(sorted_labels[:idx] == 0)
    tn = np.sum(sorted_labels[idx:] == 0)
    assert fp / (fp + tn) == pytest.approx(0.5)
    assert fpr_at_recall(distances, labels, recall=1.0) == pytest.approx(0.75)


def test_fpr95_errors():
    with pytest.raises(ValueError, match='both matching and non-matching'):
        fpr_at_recall(np.ones(3), np.ones(3, bool))
    with pytest.raises(ValueError, match='recall'):
        fpr_at_recall(np.ones(2), np.array([True, False]), recall=0)
    with pytest.raises(ValueError, match='same length'):
        fpr_at_recall(np.ones(3), np.array([True, False]))


def samples(distances, labels, sequence):
    out = []
    for d, m in zip(distances, labels):
        s = DataSample(metainfo=dict(sequence=sequence))
        s.set_field(torch.tensor(d), 'pred_distance')
        s.set_field(torch.tensor(m), 'is_match')
        out.append(s)
    return out


def test_metric_per_sequence_and_mean():
    rng = np.random.default_rng(0)
    metric = METRICS.build(dict(type='FPR95Metric'))
    expected = {}
    for seq in ('notredame', 'yosemite'):
        labels = rng.random(60) < 0.5
        labels[:2] = [True, False]
        dist = rng.random(60) - 0.3 * labels
        metric.process({}, samples(dist, labels, seq))
        expected[f'brown/fpr95_{seq}'] = 100 * sort_reference(
            list(dist), list(labels))
    result = metric.evaluate(120)
    for key, value in expected.items():
        assert result[key] == pytest.approx(value)
    assert result['brown/fpr95'] == pytest.approx(
        np.mean(list(expected.values())))
    single = FPR95Metric()
    single.process({}, samples([0.1, 0.9], [True, False], 'liberty'))
    assert single.evaluate(2) == {'brown/fpr95': 0.0}
    with pytest.raises(KeyError, match='pred_distance'):
        FPR95Metric().process({}, [DataSample()])
