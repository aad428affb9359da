from collections import Counter
from unittest import mock

import pytest

from mmattn.datasets import PKSampler


class FakeDataset:
    """Identity i has i % 5 + 1 images (some fewer than K)."""

    def __init__(self, num_ids=20):
        self.pids = [pid for pid in range(num_ids) for _ in range(pid % 5 + 1)]

    def __len__(self):
        return len(self.pids)

    def get_identities(self):
        return self.pids


def batches(sampler, size):
    indices = list(sampler)
    assert len(indices) == len(sampler)
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def test_every_batch_is_p_identities_times_k_images():
    ds = FakeDataset()
    sampler = PKSampler(ds, num_instances=4, batch_size=16, seed=1)
    for batch in batches(sampler, 16):
        counts = Counter(ds.pids[i] for i in batch)
        assert len(counts) == 4 and set(counts.values()) == {4}


def test_epochs_reshuffle_and_seed_is_deterministic():
    ds = FakeDataset()
    a = PKSampler(ds, num_instances=2, batch_size=8, seed=3)
    b = PKSampler(ds, num_instances=2, batch_size=8, seed=3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first


def test_distributed_ranks_get_disjoint_whole_batches():
    ds = FakeDataset(num_ids=40)
    per_rank = []
    for rank in range(2):
        with mock.patch(
                'mmattn.datasets.samplers.pk_sampler.get_dist_info',
                return_value=(rank, 2)):
            sampler = PKSampler(ds, num_instances=2, batch_size=8, seed=0)
        per_rank.append(batches(sampler, 8))
    single = [
        b.tolist() for b in PKSampler(
            ds, num_instances=2, batch_size=8, seed=0)._global_batches()
    ]
    assert len(per_rank[0]) == len(per_rank[1])
    # Same global batch list, dealt round-robin to the ranks (a rank whose
    # share came out short repeats its own first batches).
    for rank, mine in enumerate(per_rank):
        dealt = single[rank::2]
        assert mine == (dealt * 2)[:len(mine)]
    shared = {tuple(b) for b in per_rank[0]} & {tuple(b) for b in per_rank[1]}
    assert not shared


def test_configuration_errors():
    ds = FakeDataset(num_ids=3)
    with pytest.raises(ValueError, match='multiple of num_instances'):
        PKSampler(ds, num_instances=4, batch_size=10)
    with pytest.raises(ValueError, match='has only 3'):
        PKSampler(ds, num_instances=2, batch_size=16)
