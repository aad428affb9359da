"""P identities x K images per batch, the sampling batch-hard triplet
mining needs."""
from collections import defaultdict
from typing import Iterator, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmattn.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class PKSampler(Sampler):
    """Yield indices so that every ``P * K`` consecutive ones are K images of
    each of P distinct identities (torchreid's ``RandomIdentitySampler``).

    Every epoch each identity's images are shuffled and cut into chunks of K
    (an identity with fewer than K images is sampled with replacement); the
    chunks are then drawn P identities at a time until fewer than P
    identities have chunks left. Under distributed training every rank builds
    the same batch list from a shared seed and takes every
    ``world_size``-th batch, so each rank sees whole PK batches and the ranks
    never overlap. Use it with ``batch_size = P * K`` per rank.

    Args:
        dataset: A dataset with ``get_identities()`` (all Re-ID datasets) or
            with ``gt_label`` in its data infos.
        num_instances (int): K, images per identity in a batch.
        batch_size (int, optional): P * K. Read from the dataloader config
            when the runner builds the sampler; required here because the
            sampler is built before the dataloader.
        seed (int, optional): Shuffling seed, shared across ranks.
    """

    def __init__(self,
                 dataset,
                 num_instances: int = 4,
                 batch_size: Optional[int] = None,
                 seed: Optional[int] = None):
        if batch_size is None or batch_size % num_instances:
            raise ValueError(
                f'PKSampler: batch_size ({batch_size}) must be given and be a '
                f'multiple of num_instances ({num_instances}); set '
                'train_dataloader.sampler.batch_size equal to '
                'train_dataloader.batch_size')
        self.num_instances = num_instances
        self.batch_size = batch_size
        self.num_identities = batch_size // num_instances
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

        if hasattr(dataset, 'get_identities'):
            identities = dataset.get_identities()
        else:
            identities = [
                int(dataset.get_data_info(i)['gt_label'])
                for i in range(len(dataset))
            ]
        self.index_of = defaultdict(list)
        for index, pid in enumerate(identities):
            self.index_of[int(pid)].append(index)
        if len(self.index_of) < self.num_identities:
            raise ValueError(
                f'PKSampler: a batch needs {self.num_identities} identities '
                f'(batch_size {batch_size} / num_instances {num_instances}) '
                f'but the dataset has only {len(self.index_of)}')
        # The number of batches varies a little from epoch to epoch; use the
        # expected count so that len() is fixed (mmengine needs it up front).
        num_chunks = sum(
            max(1,
                len(v) // num_instances) for v in self.index_of.values())
        total_batches = num_chunks // self.num_identities
        self.batches_per_rank = max(1, total_batches // self.world_size)

    def _global_batches(self):
        rng = np.random.default_rng(self.seed + self.epoch)
        k = self.num_instances
        chunks = {}
        for pid, indices in self.index_of.items():
            indices = np.asarray(indices)
            if len(indices) < k:
                indices = rng.choice(indices, size=k, replace=True)
            else:
                indices = rng.permutation(indices)
            usable = len(indices) // k * k
            chunks[pid] = [indices[i:i + k] for i in range(0, usable, k)]
        batches = []
        while True:
            available = [pid for pid, c in chunks.items() if c]
            if len(available) < self.num_identities:
                break
            for pid in rng.choice(
                    available, size=self.num_identities, replace=False):
                batches.append(chunks[pid].pop())
        return [
            np.concatenate(batches[i:i + self.num_identities])
            for i in range(0, len(batches), self.num_identities)
        ]

    def __iter__(self) -> Iterator[int]:
        batches = self._global_batches()
        mine = batches[self.rank::self.world_size]
        # Repeat from the start if an unlucky epoch came out short.
        while len(mine) < self.batches_per_rank:
            mine = mine + mine[:self.batches_per_rank - len(mine)]
        for batch in mine[:self.batches_per_rank]:
            yield from (int(i) for i in batch)

    def __len__(self) -> int:
        return self.batches_per_rank * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for ``epoch`` (called by mmengine's training loops)."""
        self.epoch = epoch
