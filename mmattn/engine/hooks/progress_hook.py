"""A progress bar over the samples of every validation and test epoch."""
import sys
from collections.abc import Sized
from typing import Optional, TextIO

from mmengine.hooks import Hook, LoggerHook
from mmengine.utils import ProgressBar

from mmattn.registry import HOOKS


@HOOKS.register_module()
class EvalProgressBarHook(Hook):
    """Draw an :class:`mmengine.utils.ProgressBar` while the validation or
    test loop runs, advanced by the number of samples of each batch.

    mmengine logs an evaluation line only every ``LoggerHook.interval``
    batches, so a long Re-ID feature extraction looks stalled; the bar shows
    samples done, speed and ETA. Only rank 0 draws (the other ranks would
    interleave their bars on the same terminal); its total is the number of
    samples of its own shard (``len(dataloader.sampler)``), and a loader
    without a length gives a bar that only counts.

    Each line the LoggerHook prints during the loop would land after the
    bar's text on the same line, so this hook ends the bar line first on
    those batches (it runs before the LoggerHook: priority ``NORMAL``).

    Args:
        bar_width (int): Width of the bar in characters. Defaults to 40.
        file (TextIO, optional): Stream to draw on; ``sys.stdout`` at the
            start of each loop when None (mmengine's logger writes there
            too).
    """

    priority = 'NORMAL'

    def __init__(self, bar_width: int = 40, file: Optional[TextIO] = None):
        self.bar_width = bar_width
        self.file = file
        self._bar: Optional[ProgressBar] = None

    def before_val_epoch(self, runner) -> None:
        self._start(runner, getattr(runner.val_loop, 'dataloader', None))

    def before_test_epoch(self, runner) -> None:
        self._start(runner, getattr(runner.test_loop, 'dataloader', None))

    def after_val_iter(self,
                       runner,
                       batch_idx,
                       data_batch=None,
                       outputs=None) -> None:
        self._advance(runner, batch_idx, data_batch, outputs)

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        self._advance(runner, batch_idx, data_batch, outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish()

    def _start(self, runner, dataloader) -> None:
        self._bar = None
        if runner.rank != 0:
            return
        # The sampler yields this rank's share (padding included), which is
        # what this process iterates over.
        sampler = getattr(dataloader, 'sampler', None)
        total = len(sampler) if isinstance(sampler, Sized) else 0
        self._bar = ProgressBar(
            total,
            bar_width=self.bar_width,
            file=self.file if self.file is not None else sys.stdout)

    def _advance(self, runner, batch_idx, data_batch, outputs) -> None:
        if self._bar is None:
            return
        num = _num_samples(data_batch, outputs)
        if num > 0:
            self._bar.update(num)
        if 0 < self._bar.task_num <= self._bar.completed:
            # Finish before the metric's own log lines.
            self._finish()
        elif _logger_prints_now(runner, batch_idx):
            self._bar.file.write('\n')
            self._bar.file.flush()

    def _finish(self) -> None:
        if self._bar is None:
            return
        self._bar.file.write('\n')
        self._bar.file.flush()
        self._bar = None


def _num_samples(data_batch, outputs) -> int:
    """Samples in one evaluation batch: one output per sample (mmengine's
    val/test steps return a list of data samples), else the inputs."""
    if isinstance(outputs, Sized):
        return len(outputs)
    if isinstance(data_batch, dict) and isinstance(
            data_batch.get('inputs'), Sized):
        return len(data_batch['inputs'])
    return 1


def _logger_prints_now(runner, batch_idx: int) -> bool:
    """Whether a LoggerHook logs after this evaluation batch."""
    return any(
        isinstance(hook, LoggerHook)
        and hook.every_n_inner_iters(batch_idx, hook.interval)
        for hook in getattr(runner, 'hooks', []))
