"""FreezeModulesHook: pretrained modules fixed for the first epochs, injected
attention and head training, exact state after resuming."""
import logging
from types import SimpleNamespace

import pytest
import torch
from mmpretrain.structures import DataSample

from mmattn.engine.hooks import FreezeModulesHook
from mmattn.registry import MODELS


def stra_reid():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ReID',
            backbone=dict(
                type='AttentionBackbone',
                backbone=dict(
                    type='ResNet',
                    depth=18,
                    stem_channels=8,
                    base_channels=8,
                    strides=(1, 2, 2, 1)),
                attentions=[
                    dict(
                        cfg=dict(
                            type='StructureRegularizedAttention', groups=4),
                        replace='layer4.*.conv2')
                ],
                dummy_input_shape=(1, 3, 64, 32)),
            neck=dict(type='BNNeck', in_channels=64),
            head=dict(type='ReIDHead', num_classes=2, in_channels=64)))
    model.init_weights()
    return model


def train_epoch(hook, runner, optimizer, steps=2):
    """What mmengine's EpochBasedTrainLoop does around the hook."""
    hook.before_train_epoch(runner)
    runner.model.train()
    labels = [DataSample().set_gt_label(y) for y in (0, 0, 1, 1)]
    for step in range(steps):
        hook.before_train_iter(runner, step)
        losses = runner.model(torch.randn(4, 3, 64, 32), labels, mode='loss')
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    runner.epoch += 1


def snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_frozen_backbone_stays_fixed_while_attention_and_head_train():
    model = stra_reid()
    runner = SimpleNamespace(
        model=model, epoch=0, logger=logging.getLogger('test'))
    hook = FreezeModulesHook(paths='backbone.backbone', epochs=1)
    hook.before_train(runner)
    # Adam with weight decay would move parameters that merely got a zero
    # gradient; frozen ones must get none.
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, weight_decay=5e-4)
    resnet = model.backbone.backbone
    stra = resnet.layer4[0].conv2
    before = snapshot(resnet)
    stra_before = snapshot(stra)
    head_before = model.head.classifier.weight.clone()
    train_epoch(hook, runner, optimizer)
    after = snapshot(resnet)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    # Only StRA's own parameters (and nothing of the pretrained ResNet,
    # BatchNorm running statistics included) changed.
    assert changed and all('layer4.0.conv2' in k or 'layer4.1.conv2' in k
                           for k in changed), changed
    assert any(not torch.equal(stra_before[k], v)
               for k, v in snapshot(stra).items())
    assert not torch.equal(head_before, model.head.classifier.weight)
    assert resnet.layer1[0].bn1.training is False
    # Epoch 1: everything trains.
    train_epoch(hook, runner, optimizer)
    assert not torch.equal(after['layer1.0.conv1.weight'],
                           resnet.layer1[0].conv1.weight)
    assert not torch.equal(after['layer1.0.bn1.running_mean'],
                           resnet.layer1[0].bn1.running_mean)
    assert resnet.layer1[0].conv1.weight.requires_grad


def test_resumed_training_starts_in_the_right_state():
    model = stra_reid()
    runner = SimpleNamespace(
        model=model, epoch=3, logger=logging.getLogger('test'))
    hook = FreezeModulesHook(paths=['backbone.backbone.layer*'], epochs=4)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    layer1 = model.backbone.backbone.layer1
    assert not layer1[0].conv1.weight.requires_grad
    # The injected StRA keeps training unless freeze_injected is set.
    stra = model.backbone.backbone.layer4[0].conv2
    assert all(p.requires_grad for p in stra.parameters())
    runner.epoch = 4
    hook.before_train_epoch(runner)
    assert layer1[0].conv1.weight.requires_grad

    frozen_all = FreezeModulesHook(
        paths='backbone.backbone', epochs=1, freeze_injected=True)
    runner.epoch = 0
    frozen_all.before_train(runner)
    frozen_all.before_train_epoch(runner)
    assert not any(p.requires_grad for p in stra.parameters())


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match='epochs must be an integer'):
        FreezeModulesHook(paths='backbone', epochs=-1)
    with pytest.raises(ValueError, match='paths is empty'):
        FreezeModulesHook(paths=[], epochs=1)
    runner = SimpleNamespace(
        model=stra_reid(), epoch=0, logger=logging.getLogger('test'))
    with pytest.raises(
            ValueError, match=r"paths \['backbone.layer9'\] match "
            'no module'):
        FreezeModulesHook(
            paths='backbone.layer9', epochs=1).before_train(runner)
