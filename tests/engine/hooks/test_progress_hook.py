import io
import re
from types import SimpleNamespace

import torch
from mmengine.hooks import LoggerHook
from torch.utils.data import DataLoader

from mmattn.engine.hooks import EvalProgressBarHook
from mmattn.registry import HOOKS


def make_runner(dataloader, rank=0, hooks=()):
    loop = SimpleNamespace(dataloader=dataloader)
    return SimpleNamespace(
        rank=rank, val_loop=loop, test_loop=loop, hooks=list(hooks))


def run_loop(hook, runner, dataloader, stage='val'):
    getattr(hook, f'before_{stage}_epoch')(runner)
    for i, batch in enumerate(dataloader):
        # One output per sample, as mmengine's val/test steps return.
        outputs = [None] * len(batch)
        getattr(hook, f'after_{stage}_iter')(runner, i, {
            'inputs': batch
        }, outputs)
    getattr(hook, f'after_{stage}_epoch')(runner, {})


def test_bar_counts_samples_and_ends_the_line():
    loader = DataLoader(torch.zeros(10, 2), batch_size=4)
    out = io.StringIO()
    hook = HOOKS.build(dict(type='EvalProgressBarHook', file=out))
    assert isinstance(hook, EvalProgressBarHook)
    run_loop(hook, make_runner(loader), loader, 'test')
    text = out.getvalue()
    # Advanced by batch sizes 4, 4, 2 over the 10 samples.
    assert '0/10' in text and '4/10' in text and '8/10' in text
    assert '10/10' in text and '12/10' not in text
    assert re.match(r'\[>+\] 10/10', text.split('\r')[-1])  # full bar
    # Finished once, on a line of its own.
    assert text.endswith('\n') and text.count('\n') == 1
    # A second loop (the next validation) draws a new bar.
    run_loop(hook, make_runner(loader), loader, 'val')
    assert out.getvalue().count('10/10') == 2
    assert out.getvalue().count('\n') == 2


def test_only_rank_zero_draws(capsys):
    loader = DataLoader(torch.zeros(6, 2), batch_size=3)
    hook = EvalProgressBarHook()  # sys.stdout
    run_loop(hook, make_runner(loader, rank=1), loader)
    assert capsys.readouterr().out == ''
    run_loop(hook, make_runner(loader, rank=0), loader)
    assert '6/6' in capsys.readouterr().out


def test_loader_without_length_only_counts():
    batches = [torch.zeros(3, 2), torch.zeros(2, 2)]  # no sampler, no len
    out = io.StringIO()
    hook = EvalProgressBarHook(file=out)
    run_loop(hook, make_runner(iter(batches)), batches)
    text = out.getvalue()
    assert 'completed: 5' in text and text.endswith('\n')


def test_line_ends_where_the_logger_prints():
    loader = DataLoader(torch.zeros(12, 2), batch_size=2)  # 6 batches
    out = io.StringIO()
    hook = EvalProgressBarHook(file=out)
    runner = make_runner(loader, hooks=[LoggerHook(interval=2)])
    run_loop(hook, runner, loader)
    lines = out.getvalue().split('\n')
    # After batches 2 and 4 (logger lines follow) and at the end.
    assert len(lines) == 4 and lines[-1] == ''
    # Each line ends on the bar's state at that batch.
    assert '4/12' in lines[0].split('\r')[-1] and '6/12' not in lines[0]
    assert '8/12' in lines[1] and '12/12' in lines[2]
