import itertools

import cv2
import numpy as np
import pytest

from mmattn.datasets.synthetic import patches as synthetic
from mmattn.evaluation.hpatches import (IMAGE_NAMES, average_precision,
                                        compute_hpatches_descriptors,
                                        evaluate_hpatches, load_hpatches,
                                        load_hpatches_sequence)


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp('hp') / 'synthetic'
    synthetic.make_synthetic_patches(
        str(root),
        brown_sequences=(),
        num_points=2,
        num_test_pairs=2,
        num_hpatches_sequences=3,
        hpatches_patches_per_sequence=6)
    return root / 'hpatches-release'


def loop_ap(distances, labels, num_relevant=None):
    ranked = sorted(range(len(distances)), key=lambda i: (distances[i], i))
    hits, total = 0, 0.0
    for rank, i in enumerate(ranked, start=1):
        if labels[i]:
            hits += 1
            total += hits / rank
    return total / (num_relevant or sum(labels))


@pytest.mark.parametrize('seed', range(4))
def test_average_precision_matches_loop(seed):
    rng = np.random.default_rng(seed)
    d = np.round(rng.random(30), 1)
    labels = rng.random(30) < 0.3
    labels[0] = True
    assert average_precision(d, labels) == pytest.approx(loop_ap(d, labels))
    assert average_precision(d, labels,
                             40) == pytest.approx(loop_ap(d, labels, 40))


def test_release_layout(release):
    assert synthetic.HPATCHES_IMAGES == IMAGE_NAMES
    data = load_hpatches(str(release))
    assert list(data) == ['i_synthetic00', 'i_synthetic02', 'v_synthetic01']
    assert all(stack.shape == (6, 65, 65) for seq in data.values()
               for stack in seq.values())


def test_loader_errors(release, tmp_path):
    bad = tmp_path / 'v_bad'
    bad.mkdir()
    for name in IMAGE_NAMES[:-1]:
        cv2.imwrite(str(bad / f'{name}.png'), np.zeros((130, 65), np.uint8))
    with pytest.raises(FileNotFoundError, match='t5.png'):
        load_hpatches_sequence(str(bad))
    cv2.imwrite(str(bad / 't5.png'), np.zeros((130, 64), np.uint8))
    with pytest.raises(ValueError, match='vertical stack'):
        load_hpatches_sequence(str(bad))
    cv2.imwrite(str(bad / 't5.png'), np.zeros((195, 65), np.uint8))
    with pytest.raises(ValueError, match='different numbers'):
        load_hpatches_sequence(str(bad))
    with pytest.raises(ValueError, match='no i_'):
        load_hpatches(str(tmp_path / 'v_bad'))


def test_perfect_and_random_descriptors(release):
    data = load_hpatches(str(release))
    # The descriptor of patch i of sequence s is a one-hot code of (s, i):
    # every task is solved perfectly.
    perfect = {
        seq: {
            name: np.eye(18, dtype=np.float32)[6 * s:6 * s + 6]
            for name in IMAGE_NAMES
        }
        for s, seq in enumerate(data)
    }
    result = evaluate_hpatches(perfect, seed=0)
    assert all(v == pytest.approx(100.0) for v in result.values())
    assert set(result) == {
        f'{t}{d}'
        for t, d in itertools.product(('verification', 'matching',
                                       'retrieval'), ('', '_easy', '_hard',
                                                      '_tough'))
    }
    rng = np.random.default_rng(0)
    noise = {
        seq: {
            name: rng.normal(size=(6, 8))
            for name in IMAGE_NAMES
        }
        for seq in data
    }
    random = evaluate_hpatches(noise, seed=0)
    assert random['matching'] < 60 and random['retrieval'] < 60
    assert evaluate_hpatches(noise, seed=0) == random


def test_raw_pixels_beat_chance_and_difficulty_orders(release):
    data = load_hpatches(str(release))

    def describe(batch):
        flat = batch.reshape(len(batch), -1).astype(np.float64)
        flat -= flat.mean(1, keepdims=True)
        return flat / np.linalg.norm(flat, axis=1, keepdims=True)

    desc = compute_hpatches_descriptors(data, describe, patch_size=16)
    assert desc['i_synthetic00']['ref'].shape == (6, 256)
    result = evaluate_hpatches(desc, seed=0)
    assert result['verification_easy'] > 80
    assert result['matching_easy'] >= result['matching_tough']
