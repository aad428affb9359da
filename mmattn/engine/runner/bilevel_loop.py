"""The bilevel search loop: weights on train_A, architecture on train_B."""
import copy
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmattn.registry import DATASETS, LOOPS

_SCHEDULES = ('interleave', 'sequential')


def dataset_labels(dataset) -> List[int]:
    """Class / identity label of every sample of ``dataset``, in order."""
    if hasattr(dataset, 'get_identities'):
        return [int(v) for v in dataset.get_identities()]
    if hasattr(dataset, 'get_gt_labels'):
        return [int(v) for v in dataset.get_gt_labels()]
    return [
        int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))
    ]


def stratified_split(labels: Sequence[int],
                     ratio: float,
                     seed: int = 0) -> Tuple[List[int], List[int]]:
    """Split sample indices per class into A (``ratio``) and B (the rest).

    Every class with at least two samples has at least one in each part
    (``round(ratio * n)`` in A, clipped to ``[1, n - 1]``); a class with a
    single sample is put in both, so that every class is in both parts.

    Args:
        labels (Sequence[int]): Label of every sample.
        ratio (float): Fraction for A, in (0, 1).
        seed (int): Shuffling seed (the same on every rank).

    Returns:
        tuple[list[int], list[int]]: Sorted indices of A and of B.
    """
    if not 0 < ratio < 1:
        raise ValueError(f'split ratio must lie in (0, 1), got {ratio!r}')
    by_class: Dict[int, List[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_class[int(label)].append(index)
    rng = np.random.default_rng(seed)
    part_a, part_b, shared = [], [], []
    for label in sorted(by_class):
        indices = rng.permutation(by_class[label]).tolist()
        if len(indices) == 1:
            shared.append(label)
            part_a += indices
            part_b += indices
            continue
        n_a = min(max(int(round(ratio * len(indices))), 1), len(indices) - 1)
        part_a += indices[:n_a]
        part_b += indices[n_a:]
    if shared:
        print_log(
            f'stratified split: {len(shared)} classes have one sample, '
            'which is used in both train_A and train_B',
            logger='current')
    return sorted(part_a), sorted(part_b)


class DatasetSubset:
    """The samples ``indices`` of ``dataset``, with the dataset interface
    samplers and hooks use (``metainfo``, ``get_data_info``, labels).

    ``dataset[indices[i]]`` keeps its own ``sample_idx``, the index in the
    whole dataset.

    Args:
        dataset: An mmengine dataset.
        indices (Sequence[int]): The kept samples.
        labels (Sequence[int], optional): Labels of the whole dataset.
    """

    def __init__(self,
                 dataset,
                 indices: Sequence[int],
                 labels: Optional[Sequence[int]] = None):
        self.dataset = dataset
        self.indices = list(indices)
        labels = dataset_labels(dataset) if labels is None else labels
        self._labels = [int(labels[i]) for i in self.indices]

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        """The wrapped dataset is initialised already."""

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int):
        return self.dataset[self.indices[index]]

    def get_data_info(self, index: int) -> dict:
        return self.dataset.get_data_info(self.indices[index])

    def get_identities(self) -> List[int]:
        """Label of every kept sample (what ``PKSampler`` reads)."""
        return list(self._labels)

    def get_gt_labels(self) -> np.ndarray:
        return np.asarray(self._labels)


class _SamplerPair:
    """``set_epoch`` for both samplers (called by ``DistSamplerSeedHook``)."""

    def __init__(self, *samplers):
        self.samplers = samplers

    def set_epoch(self, epoch: int) -> None:
        for sampler in self.samplers:
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)


class BilevelDataLoader:
    """Batches of train_A and train_B as ``dict(train_a=..., train_b=...)``.

    - ``'interleave'`` (first-order DARTS, seed 004): one iteration per
      train_A batch, each paired with the next train_B batch (train_B is
      cycled).
    - ``'sequential'`` (seed 000 algorithm 1, seed 001 section 4.2): every
      train_A batch alone (weight steps), then every train_B batch alone
      (architecture steps).

    ``len()`` is the number of iterations of an epoch, which is what
    ``convert_to_iter_based`` schedules and the log use.
    """

    def __init__(self, loader_a: DataLoader, loader_b: DataLoader,
                 schedule: str, dataset):
        if schedule not in _SCHEDULES:
            raise ValueError(f'schedule must be one of {_SCHEDULES}, got '
                             f'{schedule!r}')
        self.loader_a = loader_a
        self.loader_b = loader_b
        self.schedule = schedule
        self.dataset = dataset
        self.sampler = _SamplerPair(loader_a.sampler, loader_b.sampler)
        self.batch_size = loader_a.batch_size

    def __len__(self) -> int:
        if self.schedule == 'interleave':
            return len(self.loader_a)
        return len(self.loader_a) + len(self.loader_b)

    def _cycle_b(self) -> Iterator:
        while True:
            empty = True
            for batch in self.loader_b:
                empty = False
                yield batch
            if empty:
                raise ValueError('train_B yields no batch; lower its batch '
                                 'size or raise the split ratio')

    def __iter__(self) -> Iterator[dict]:
        if self.schedule == 'interleave':
            batches_b = self._cycle_b()
            for batch in self.loader_a:
                yield dict(train_a=batch, train_b=next(batches_b))
        else:
            for batch in self.loader_a:
                yield dict(train_a=batch)
            for batch in self.loader_b:
                yield dict(train_b=batch)


@LOOPS.register_module()
class BilevelEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Epoch-based search loop over a stratified train_A / train_B split.

    The training set of ``train_dataloader`` is split once (the same split
    on every rank) so that every class / identity is in both parts; each
    part gets its own dataloader built like ``train_dataloader`` (sampler
    included, e.g. ``PKSampler``, which then samples the part), with
    ``arch_dataloader`` overriding keys for train_B. The model's
    ``train_step`` receives ``dict(train_a=..., train_b=...)``
    (see :class:`BilevelDataLoader` for the schedules).

    Args:
        runner (Runner): The runner.
        dataloader (dict): ``train_dataloader`` config.
        max_epochs (int): Search epochs.
        split_ratio (float): Fraction of every class in train_A: 0.8 for DA
            and DCS-DNAS, 0.5 for AutoLA. Defaults to 0.8.
        schedule (str): ``'interleave'`` or ``'sequential'``. Defaults to
            ``'interleave'``.
        arch_dataloader (dict, optional): Keys of the train_B dataloader
            that differ from ``train_dataloader`` (e.g. ``batch_size`` and
            ``sampler``).
        split_seed (int): Seed of the split. Defaults to 0.
        val_begin (int): First epoch with validation. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list, optional): See ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: dict,
                 max_epochs: int,
                 split_ratio: float = 0.8,
                 schedule: str = 'interleave',
                 arch_dataloader: Optional[dict] = None,
                 split_seed: int = 0,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals=None):
        if not isinstance(dataloader, dict):
            raise TypeError('BilevelEpochBasedTrainLoop builds its own '
                            'dataloaders: train_dataloader must be a config '
                            f'dict, got {type(dataloader).__name__}')
        if schedule not in _SCHEDULES:
            raise ValueError(f'train_cfg.schedule must be one of '
                             f'{_SCHEDULES}, got {schedule!r}')
        cfg = copy.deepcopy(dict(dataloader))
        dataset = cfg.pop('dataset')
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        labels = dataset_labels(dataset)
        indices_a, indices_b = stratified_split(labels, split_ratio,
                                                split_seed)
        cfg_b = copy.deepcopy(cfg)
        cfg_b.update(copy.deepcopy(dict(arch_dataloader or {})))
        if 'dataset' in cfg_b:
            raise ValueError('train_cfg.arch_dataloader must not set a '
                             'dataset: train_B is a part of the training set')
        seed = runner.seed
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        loader_a = runner.build_dataloader(
            dict(cfg, dataset=DatasetSubset(dataset, indices_a, labels)),
            seed=seed,
            diff_rank_seed=diff_rank_seed)
        loader_b = runner.build_dataloader(
            dict(cfg_b, dataset=DatasetSubset(dataset, indices_b, labels)),
            seed=seed,
            diff_rank_seed=diff_rank_seed)
        self.split_indices = (indices_a, indices_b)
        combined = BilevelDataLoader(loader_a, loader_b, schedule, dataset)
        super().__init__(
            runner,
            combined,
            max_epochs,
            val_begin=val_begin,
            val_interval=val_interval,
            dynamic_intervals=dynamic_intervals)
        self.schedule = schedule
        runner.logger.info(
            f'bilevel search: {len(indices_a)} train_A / {len(indices_b)} '
            f'train_B samples of {len(labels)} ({len(set(labels))} classes),'
            f' schedule {schedule!r}, {len(combined)} iterations per epoch')

    @property
    def arch_dataloader(self) -> DataLoader:
        """The train_B dataloader."""
        return self.dataloader.loader_b
