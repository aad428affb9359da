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
        runner,
        3,
        outputs=dict(loss=torch.tensor(1.0), loss_id=torch.tensor(0.5)))
    with pytest.raises(RuntimeError) as err:
        hook.after_train_iter(
            runner,
            3,
            outputs=dict(
                loss=torch.tensor(float('nan')),
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


def test_epoch_seed_reaches_the_training_set_through_wrappers():
    from mmattn.engine.hooks import EpochSeedHook

    class Seeded:

        def set_epoch_seed(self, seed, epoch):
            self.got = (seed, epoch)

    inner = Seeded()
    wrapper = SimpleNamespace(datasets=[SimpleNamespace(dataset=inner)])
    runner = fake_runner(epoch=2)
    runner.train_loop = SimpleNamespace(
        dataloader=SimpleNamespace(dataset=wrapper, persistent_workers=True))
    runner.logger = SimpleNamespace(warning=pytest.fail)
    EpochSeedHook(seed=5).before_train_epoch(runner)
    assert inner.got == (5, 2)
    # The first step of the epoch starts from a seed of its own, whatever
    # creating the loader iterator drew from the generators.
    hook = EpochSeedHook()
    hook.before_train_iter(runner, 0)
    first = draw()
    draw()
    hook.before_train_iter(runner, 1)  # later steps do not reseed
    assert draw() != first
    hook.before_train_iter(runner, 0)
    assert draw() == first


def test_epoch_seed_warns_about_an_unseeded_set_with_persistent_workers():
    messages = []
    runner = fake_runner()
    runner.train_loop = SimpleNamespace(
        dataloader=SimpleNamespace(dataset=object(), persistent_workers=True))
    runner.logger = SimpleNamespace(warning=messages.append)
    hook = EpochSeedHook()
    hook.before_train_epoch(runner)
    hook.before_train_epoch(runner)
    assert len(messages) == 1
    assert 'persistent_workers=False for an exact resume' in messages[0]


def resume_runner(model, resuming=True):
    return SimpleNamespace(
        model=model,
        _resume=resuming,
        _load_from='work/epoch_1.pth',
        work_dir='work')


def test_resuming_a_checkpoint_of_another_model_names_the_keys():
    from mmattn.engine.hooks import ResumeCheckHook
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    other = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.Linear(3, 5), torch.nn.Linear(5, 1))
    checkpoint = dict(state_dict={
        'module.' + k: v
        for k, v in other.state_dict().items()
    })
    hook = ResumeCheckHook()
    with pytest.raises(RuntimeError) as err:
        hook.after_load_checkpoint(resume_runner(model), checkpoint)
    message = str(err.value)
    assert "cannot resume from 'work/epoch_1.pth'" in message
    assert '2 not in the model: 2.weight, 2.bias' in message
    assert '1.weight (5, 3) in the checkpoint, (2, 3) in the model' in message
    assert 'load_from' in message
    # Fine-tuning (load_from without resume) stays lenient; the same model
    # resumes.
    hook.after_load_checkpoint(resume_runner(model, False), checkpoint)
    hook.after_load_checkpoint(
        resume_runner(model), dict(state_dict=model.state_dict()))
