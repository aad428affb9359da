import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmattn.engine.hooks import CheckInvalidLossHook, EpochSeedHook


def fake_runner(iter_=4, epoch=1, seed=7):
    return SimpleNamespace(iter=iter_, epoch=epoch, seed=seed)


def test_invalid_loss_stops_with_iteration_and_terms():
    hook = CheckInvalidLossHook()
    runner = fake_runner()
    hook.after_train_iter(
        runner, 3, outputs=dict(loss=torch.tensor(1.0),
                                loss_id=torch.tensor(0.5)))
    with pytest.raises(RuntimeError) as err:
        hook.after_train_iter(
            runner, 3, outputs=dict(loss=torch.tensor(float('nan')),
                                    loss_id=torch.tensor(0.5),
                                    loss_triplet=torch.tensor(float('inf'))))
    message = str(err.value)
    assert 'iteration 5' in message and 'epoch 2' in message
    assert 'loss_triplet=inf' in message and 'loss_id=0.5' in message


def draw():
    return (random.random(), np.random.rand(), torch.rand(1).item())


def test_epoch_seed_depends_only_on_seed_and_epoch():
    hook = EpochSeedHook()
    hook.before_train_epoch(fake_runner(epoch=3))
    first = draw()
    draw()  # advance the generators, as training would
    hook.before_train_epoch(fake_runner(epoch=3))
    assert draw() == first
    hook.before_train_epoch(fake_runner(epoch=4))
    assert draw() != first
