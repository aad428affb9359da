"""Hooks that make training stop loudly on bad losses and resume exactly."""
import math
import random

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

    def after_train_iter(self, runner, batch_idx, data_batch=None,
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


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed python, numpy and torch at every epoch start from
    ``(seed, epoch)``.

    mmengine's resume restores weights, optimiser, schedulers and the
    sampler epoch but not the random generators, so augmentations and
    dropout after a resume would differ from an uninterrupted run. Seeding
    each epoch from its index makes a resumed run repeat the uninterrupted
    one exactly (in deterministic mode).

    Args:
        seed (int, optional): Base seed; defaults to the runner's seed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed=None):
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        base = runner.seed if self.seed is None else self.seed
        seed = (int(base) * 100003 + runner.epoch) % (2**31)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
