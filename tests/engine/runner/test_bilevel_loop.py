"""stratified_split: the train_A / train_B split of the bilevel search."""
from collections import Counter

import pytest

from mmattn.engine.runner.bilevel_loop import stratified_split

# 6 classes with 10, 7, 5, 4, 3 and 2 samples, interleaved.
SIZES = {0: 10, 1: 7, 2: 5, 3: 4, 4: 3, 5: 2}
LABELS = [
    label for i in range(max(SIZES.values())) for label, size in SIZES.items()
    if i < size
]


@pytest.mark.parametrize('ratio', [0.8, 0.5])
def test_ratio_is_kept_per_class_and_every_class_is_in_both(ratio):
    part_a, part_b = stratified_split(LABELS, ratio, seed=0)
    count_a = Counter(LABELS[i] for i in part_a)
    count_b = Counter(LABELS[i] for i in part_b)
    for label, size in SIZES.items():
        # round(ratio * n) in A, at least one sample left for each part.
        expected = min(max(round(ratio * size), 1), size - 1)
        assert count_a[label] == expected, (label, size)
        assert count_b[label] == size - expected, (label, size)
        assert count_a[label] >= 1 and count_b[label] >= 1
    assert count_a[0] == round(ratio * 10)  # 8 / 5 of the 10-sample class


@pytest.mark.parametrize('ratio', [0.8, 0.5])
def test_parts_are_disjoint_sorted_and_cover_every_sample(ratio):
    part_a, part_b = stratified_split(LABELS, ratio, seed=3)
    assert not set(part_a) & set(part_b)
    assert sorted(part_a + part_b) == list(range(len(LABELS)))
    assert part_a == sorted(part_a) and part_b == sorted(part_b)


def test_same_seed_same_split_other_seed_other_split():
    labels = [i % 20 for i in range(400)]
    first = stratified_split(labels, 0.8, seed=1)
    assert stratified_split(labels, 0.8, seed=1) == first
    second = stratified_split(labels, 0.8, seed=2)
    assert second != first
    # Another seed picks other samples, not other counts.
    assert len(second[0]) == len(first[0]) == 320


def test_single_sample_class_is_used_in_both_parts():
    # Class 7 has one sample (index 4): it cannot be split, so, as
    # documented, it goes into both parts and every class stays in both.
    labels = [0, 0, 1, 1, 7, 0, 1]
    part_a, part_b = stratified_split(labels, 0.8, seed=0)
    assert 4 in part_a and 4 in part_b
    assert {labels[i] for i in part_a} == {labels[i] for i in part_b} \
        == {0, 1, 7}
    # The other samples are still split without overlap.
    assert set(part_a) & set(part_b) == {4}
    assert sorted(set(part_a) | set(part_b)) == list(range(len(labels)))


@pytest.mark.parametrize('ratio', [0, 1, 1.5, -0.2])
def test_ratio_outside_the_open_interval_is_refused(ratio):
    with pytest.raises(ValueError, match='split ratio must lie in'):
        stratified_split(LABELS, ratio)
