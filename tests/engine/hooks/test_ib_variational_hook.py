"""IBVariationalHook with source='training': the epoch's IB statistics from
the training forward passes equal a separate pass (weights fixed,
augmentation off), under distributed training too, and resume is exact."""
import copy
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from mmattn.engine.hooks import IBVariationalHook
from mmattn.models.losses import IBBoundLoss
from mmattn.models.losses.ib_loss import (centroids_from_sums, class_sums,
                                          soft_cluster_scores)

CONFIG = osp.join(REPO_ROOT,
                  'configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py')


def tiny_cfg(data_root, work_dir, epochs, **hook):
    """The IB demo config on the tiny synthetic set (8 training ids)."""
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = osp.basename(str(work_dir))
    cfg.log_level = 'WARNING'
    cfg.model.head.num_classes = 8
    for name in ('train_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = 8
    cfg.train_dataloader.sampler.update(batch_size=8, num_instances=2)
    cfg.test_dataloader.batch_size = 7
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_evaluator = dict(type='ReIDMetric')
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs)
    cfg.param_scheduler = [
        dict(
            type='CosineAnnealingLR',
            by_epoch=True,
            begin=0,
            T_max=epochs,
            eta_min=1e-5,
            convert_to_iter_based=True)
    ]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.custom_hooks = [
        dict(
            type='IBVariationalHook',
            input_size=(4, 2),
            **dict(dict(warmup_ratio=0.34, source='training'), **hook))
    ]
    return cfg


def ib_hook(runner):
    return [h for h in runner.hooks if isinstance(h, IBVariationalHook)][0]


def test_training_statistics_equal_a_pass_at_lr_0(market_root, tmp_path,
                                                  monkeypatch):
    """lr 0 and no augmentation, a network whose train-mode forward is its
    eval-mode one (BN in eval mode, W before the BNNeck, no Gumbel noise),
    a sampler that visits every sample once: the tables the hook builds from
    the training batches are those of a separate pass."""
    cfg = tiny_cfg(market_root, tmp_path / 'lr0', epochs=2, warmup_ratio=0.5)
    cfg.model = dict(
        type='ReID',
        backbone=dict(
            type='CifarResNet', depth=20, base_channels=8, norm_eval=True),
        neck=dict(type='BNNeck', in_channels=32),
        head=dict(
            type='ReIDHeadWithIB',
            num_classes=8,
            in_channels=32,
            ib_feature='pre_bn',
            loss_triplet=None),
        data_preprocessor=dict(
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True))
    # The training pipeline without augmentation is the test pipeline.
    cfg.train_dataloader.dataset.pipeline = copy.deepcopy(
        cfg.test_dataloader.dataset.pipeline)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.0, momentum=0.9))
    cfg.param_scheduler = None
    passes, before = [], {}
    update = IBVariationalHook.update
    monkeypatch.setattr(
        IBVariationalHook, 'update',
        lambda self, runner: passes.append(runner.epoch) or update(
            self, runner))
    before_train = IBVariationalHook.before_train
    monkeypatch.setattr(
        IBVariationalHook, 'before_train', lambda self, runner: before.update(
            copy.deepcopy(runner.model.state_dict())) or before_train(
                self, runner))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert passes == []  # every table came from the training batches
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, before[key]) or 'neck' in key, key

    hook = ib_hook(runner)
    loss = runner.model.head.loss_ib
    accumulated = dict(
        centroids=loss.output_centroids.clone(),
        table=loss.table.clone(),
        input_scores=loss.input_scores.clone(),
        stats=dict(hook.last_stats))
    assert set(accumulated['stats']) == {
        'I_XW', 'I_WY', 'IB', 'IBB', 'IBB_reconstructed', 'IBB_separable'
    }
    stats = update(hook, runner)  # the separate pass, eval mode
    torch.testing.assert_close(accumulated['centroids'], loss.output_centroids)
    torch.testing.assert_close(accumulated['table'], loss.table)
    torch.testing.assert_close(accumulated['input_scores'], loss.input_scores)
    for key, value in stats.items():
        assert accumulated['stats'][key] == pytest.approx(
            value, rel=1e-5, abs=1e-6), key


def trained_state(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_resumed_training_uses_the_saved_tables(market_root, tmp_path):
    """Three epochs straight vs two, then resumed: the same weights and the
    same tables; the checkpoint without the hook's entry gives others."""
    straight = Runner.from_cfg(tiny_cfg(market_root, tmp_path / 'a', 3))
    straight.train()
    expected = trained_state(straight)
    expected_q = straight.model.head.loss_ib.table.clone()
    ckpt = str(tmp_path / 'a' / 'epoch_2.pth')
    saved = torch.load(ckpt, map_location='cpu')
    assert saved['ib_variational_hook']['tables'][0]['table'].shape == (8, 8)

    cfg = tiny_cfg(market_root, tmp_path / 'b', 3)
    cfg.load_from, cfg.resume = ckpt, True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    for key, value in trained_state(resumed).items():
        assert torch.equal(value, expected[key]), key
    assert torch.equal(resumed.model.head.loss_ib.table, expected_q)

    # Without the saved tables, epoch 3 would train on others.
    del saved['ib_variational_hook']
    torch.save(saved, str(tmp_path / 'bare.pth'))
    cfg = tiny_cfg(market_root, tmp_path / 'c', 3)
    cfg.load_from, cfg.resume = str(tmp_path / 'bare.pth'), True
    bare = Runner.from_cfg(cfg)
    bare.train()
    assert any(not torch.equal(value, expected[key])
               for key, value in trained_state(bare).items())


def rows(seed=0, n=40, k=5, dim=6):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (n, ), generator=generator)
    labels[:k] = torch.arange(k)
    feats = torch.randn(n, dim, generator=generator)
    reps = F.normalize(torch.randn(n, dim, generator=generator), dim=1)
    phi_in = soft_cluster_scores(
        reps, centroids_from_sums(class_sums(reps, labels, k)))
    return feats, labels, phi_in


def _rank_tables(rank, world_size, port, out):
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    feats, labels, phi_in = rows()
    loss = IBBoundLoss(num_classes=5)
    mine = slice(rank, None, world_size)  # each rank its own batches
    stats = IBVariationalHook._output_tables(feats[mine], labels[mine],
                                             phi_in[mine], phi_in, loss)
    torch.save(
        dict(stats=stats, table=loss.table, centroids=loss.output_centroids),
        f'{out}/{rank}.pth')
    dist.destroy_process_group()


def test_statistics_are_all_reduced_across_ranks(tmp_path):
    feats, labels, phi_in = rows()
    loss = IBBoundLoss(num_classes=5)
    stats = IBVariationalHook._output_tables(feats, labels, phi_in, phi_in,
                                             loss)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.start_processes(
        _rank_tables,
        args=(2, port, str(tmp_path)),
        nprocs=2,
        start_method='fork')
    for rank in range(2):
        got = torch.load(str(tmp_path / f'{rank}.pth'))
        torch.testing.assert_close(got['table'], loss.table)
        torch.testing.assert_close(got['centroids'], loss.output_centroids)
        for key, value in stats.items():
            assert got['stats'][key] == pytest.approx(
                value, rel=1e-5, abs=1e-6), key


def test_source_is_checked():
    with pytest.raises(ValueError, match="source must be one of.*'epoch'"):
        IBVariationalHook(source='epoch')
