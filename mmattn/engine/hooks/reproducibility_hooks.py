"""Hooks that make training stop loudly on bad losses and resume exactly."""
import math
import random
import re

import numpy as np
import torch
from mmengine.hooks import Hook

from mmattn.registry import HOOKS


@HOOKS.register_module()
class CheckInvalidLossHook(Hook):
    """Stop training at the first non-finite loss, naming the iteration and
    every loss term.

    Args:
        interval (int): Check every ``interval`` iterations. Each check reads
            the logged losses, which the logger syncs anyway; 1 catches the
            first bad step.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 1):
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if outputs is None or not self.every_n_train_iters(
                runner, self.interval):
            return
        # The logged terms still carry the graph; detach before reading.
        terms = {
            k: float(v.detach() if isinstance(v, torch.Tensor) else v)
            for k, v in outputs.items() if k.startswith('loss')
        }
        if all(math.isfinite(v) for v in terms.values()):
            return
        listed = ', '.join(f'{k}={v}' for k, v in terms.items())
        raise RuntimeError(
            f'non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx}): {listed}. Lower the '
            'learning rate, check the data, or resume from the last '
            'checkpoint.')


def _epoch_seeded_datasets(dataset) -> list:
    """The datasets under ``dataset`` (through mmengine's wrappers, which
    keep theirs in ``dataset`` / ``datasets``) that seed their samples from
    (seed, epoch, index), and whether any does not."""
    children = getattr(dataset, 'datasets', None)
    if children is None and hasattr(dataset, 'dataset'):
        children = [dataset.dataset]
    if children is not None and not hasattr(dataset, 'set_epoch_seed'):
        found, other = [], False
        for child in children:
            child_found, child_other = _epoch_seeded_datasets(child)
            found += child_found
            other = other or child_other
        return found, other
    if hasattr(dataset, 'set_epoch_seed'):
        return [dataset], False
    return [], True


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Make every epoch's randomness a function of ``(seed, epoch)``.

    mmengine's resume restores weights, optimiser, schedulers and the
    sampler epoch but not the random generators, so augmentations and
    dropout after a resume would differ from an uninterrupted run. This
    hook

    * tells the training dataset the epoch (``set_epoch_seed``, see
      :class:`mmattn.datasets.base_reid_dataset.EpochSeededSampling`): each
      sample's augmentation is then seeded from (seed, epoch, sample
      index), in whichever loader worker it is loaded. Persistent workers
      (the configs' default) keep their generators across epochs and would
      otherwise restart from their initial seed after a resume;
    * reseeds python, numpy and torch in the main process at the epoch
      start and again just before its first step (creating the epoch's
      loader iterator draws from torch's generator, a different number of
      times for a new iterator and for persistent workers), so the model's
      own randomness (Gumbel noise, dropout) repeats too.

    A resumed run then repeats the uninterrupted one exactly (in
    deterministic mode). A training set that cannot be seeded per sample
    loaded by persistent workers gets a warning: its resume is not exact.

    Args:
        seed (int, optional): Base seed; defaults to the runner's seed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed=None):
        self.seed = seed
        self._warned = False

    def _base_seed(self, runner) -> int:
        return int(runner.seed if self.seed is None else self.seed)

    def _reseed(self, runner, stream: int) -> None:
        seed = (self._base_seed(runner) * 100003 + runner.epoch * 2 +
                stream) % (2**31)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def before_train_epoch(self, runner) -> None:
        self._reseed(runner, 0)
        loader = getattr(
            getattr(runner, 'train_loop', None), 'dataloader', None)
        dataset = getattr(loader, 'dataset', None)
        if dataset is None:
            return
        seeded, other = _epoch_seeded_datasets(dataset)
        for part in seeded:
            part.set_epoch_seed(self._base_seed(runner), runner.epoch)
        if other and getattr(loader, 'persistent_workers', False) and \
                not self._warned:
            self._warned = True
            runner.logger.warning(
                f'EpochSeedHook: the training set ({type(dataset).__name__}) '
                'does not seed its samples per epoch (set_epoch_seed) and '
                'its loader has persistent workers, whose random state '
                'restarts on --resume: a resumed training will not repeat '
                'an uninterrupted one exactly. Set train_dataloader.'
                'persistent_workers=False for an exact resume.')

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if batch_idx == 0:
            self._reseed(runner, 1)


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Refuse to resume from a checkpoint of another model, before the
    first training step.

    mmengine resumes with ``strict=False``: a checkpoint of another model
    (another backbone, another number of classes) only logs the mismatched
    keys, and training then fails in the first optimiser step with a size
    error naming no parameter. This hook compares the checkpoint's
    ``state_dict`` with the model's when the Runner resumes (loading weights
    for fine-tuning, ``load_from`` without ``resume``, stays lenient).

    Args:
        max_listed (int): How many keys of each kind the error lists.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_listed: int = 5):
        self.max_listed = max_listed

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        if not getattr(runner, '_resume', False):
            return
        model = runner.model
        model = getattr(model, 'module', model)
        expected = model.state_dict()
        saved = checkpoint.get('state_dict', checkpoint)
        saved = {re.sub(r'^module\.', '', k): v for k, v in saved.items()}
        missing = [k for k in expected if k not in saved]
        unexpected = [k for k in saved if k not in expected]
        reshaped = [
            f'{k} {tuple(saved[k].shape)} in the checkpoint, '
            f'{tuple(v.shape)} in the model' for k, v in expected.items()
            if k in saved and hasattr(saved[k], 'shape')
            and tuple(saved[k].shape) != tuple(v.shape)
        ]
        if not (missing or unexpected or reshaped):
            return

        def listed(keys):
            more = len(keys) - self.max_listed
            return ', '.join(keys[:self.max_listed]) + (f' and {more} more'
                                                        if more > 0 else '')

        parts = [
            f'{len(keys)} {what}: {listed(keys)}'
            for what, keys in (('missing from the checkpoint',
                                missing), ('not in the model', unexpected),
                               ('of another shape', reshaped)) if keys
        ]
        source = runner._load_from or runner.work_dir
        raise RuntimeError(
            f'cannot resume from {source!r}: the checkpoint is of another '
            f'model than the config builds ({"; ".join(parts)}). --resume '
            'continues the training of the same config; to start from '
            'these weights, train with --cfg-options load_from=<checkpoint> '
            '(fine-tuning, mismatched keys are skipped) or pass the config '
            'that wrote the checkpoint.')
