"""FaceVerificationMetric against a plain 10-fold reference."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmattn.evaluation.metrics import FaceVerificationMetric
from mmattn.evaluation.metrics.face_verification import DEFAULT_THRESHOLDS
from mmattn.registry import METRICS


def reference(features, pairs, labels, folds, thresholds):
    """Loops: cosine per pair, best-accuracy threshold on the other folds
    (first on ties), accuracy on the held-out fold."""
    scores = []
    for i, j in pairs:
        a, b = features[i], features[j]
        scores.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    accs, chosen = [], []
    for fold in sorted(set(folds)):
        best_acc, best_t = -1.0, None
        for t in thresholds:
            right = [(s > t) == bool(y)
                     for s, y, f in zip(scores, labels, folds) if f != fold]
            acc = sum(right) / len(right)
            if acc > best_acc:
                best_acc, best_t = acc, t
        right = [(s > best_t) == bool(y)
                 for s, y, f in zip(scores, labels, folds) if f == fold]
        accs.append(100 * sum(right) / len(right))
        chosen.append(best_t)
    return np.mean(accs), np.std(accs), np.mean(chosen)


def make_problem(seed, num_images=40, num_pairs=120, dim=8):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 10, num_images)
    centres = rng.normal(size=(10, dim))
    features = centres[ids] + rng.normal(scale=1.2, size=(num_images, dim))
    pairs = rng.integers(0, num_images, (num_pairs, 2))
    labels = (ids[pairs[:, 0]] == ids[pairs[:, 1]]).astype(int)
    folds = np.repeat(np.arange(10), num_pairs // 10)
    return features, pairs, labels, folds


def run_metric(metric, features, pairs, labels, folds, order=None):
    metric.dataset_meta = dict(
        verification=dict(
            name='lfw',
            pairs=[tuple(p) for p in pairs.tolist()],
            labels=labels.tolist(),
            folds=folds.tolist(),
            num_folds=10))
    order = range(len(features)) if order is None else order
    batch = []
    for k in order:
        sample = DataSample(sample_idx=int(k))
        sample.set_field(
            torch.tensor(features[k], dtype=torch.float32),
            'pred_feature',
            field_type='data')
        batch.append(sample)
    metric.process(None, batch)
    return metric.evaluate(len(features))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_metric_matches_reference(seed):
    features, pairs, labels, folds = make_problem(seed)
    thresholds = np.linspace(1, -1, 81)
    metric = METRICS.build(
        dict(type='FaceVerificationMetric', thresholds=thresholds.tolist()))
    # Samples arrive in any order; sample_idx puts them in place.
    order = np.random.default_rng(seed).permutation(len(features))
    result = run_metric(metric, features, pairs, labels, folds, order)
    mean, std, thr = reference(features, pairs, labels, folds, thresholds)
    assert result['lfw/accuracy'] == pytest.approx(mean, abs=1e-9)
    assert result['lfw/accuracy_std'] == pytest.approx(std, abs=1e-9)
    assert result['lfw/threshold'] == pytest.approx(thr, abs=1e-6)
    assert 50 < result['lfw/accuracy'] <= 100


def test_default_thresholds_and_perfect_separation():
    # ArcFace's squared-distance grid 0..3.99 in cosine form.
    assert len(DEFAULT_THRESHOLDS) == 400
    assert DEFAULT_THRESHOLDS[0] == 1.0
    assert DEFAULT_THRESHOLDS[-1] == pytest.approx(1 - 3.99 / 2)
    features = np.eye(4)[[0, 0, 1, 1, 2, 2, 3, 3]] + 0.01
    pairs = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [4, 6]] * 5)
    labels = np.array([1, 1, 1, 1, 0, 0] * 5)
    folds = np.repeat(np.arange(10), 3)
    result = run_metric(FaceVerificationMetric(), features, pairs, labels,
                        folds)
    assert result['lfw/accuracy'] == 100.0
    assert result['lfw/accuracy_std'] == 0.0


def test_errors():
    metric = FaceVerificationMetric()
    with pytest.raises(KeyError, match='pred_feature'):
        metric.process(None, [DataSample(sample_idx=0)])
    features, pairs, labels, folds = make_problem(0)
    with pytest.raises(ValueError, match='no feature for'):
        run_metric(
            FaceVerificationMetric(),
            features,
            pairs,
            labels,
            folds,
            order=range(5))
    metric = FaceVerificationMetric()
    metric.dataset_meta = dict(classes=('a', ))
    metric.results = [(0, torch.zeros(2))]
    with pytest.raises(ValueError, match="no 'verification'"):
        metric.compute_metrics(metric.results)
    with pytest.raises(ValueError, match='thresholds'):
        FaceVerificationMetric(thresholds=[])
    with pytest.raises(ValueError, match='at least 2 folds'):
        run_metric(FaceVerificationMetric(), features, pairs, labels,
                   np.zeros_like(folds))
