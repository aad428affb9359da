"""IBVariationalHook (the table Q) and GumbelTemperatureHook."""
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmattn.engine.hooks import (ArchitectureLoggerHook, GumbelTemperatureHook,
                                 IBVariationalHook)
from mmattn.models.losses.ib_loss import soft_cluster_scores
from mmattn.registry import DATASETS, MODELS


def tiny_reid():
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='ReID',
            backbone=dict(type='CifarResNet', depth=20, base_channels=8),
            neck=dict(type='BNNeck', in_channels=32),
            head=dict(type='ReIDHeadWithIB', num_classes=8, in_channels=32),
            data_preprocessor=dict(
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                to_rgb=True)))


def test_ib_table_is_a_conditional_distribution(market_root):
    model = tiny_reid()
    dataset = DATASETS.build(
        dict(
            type='Market1501',
            data_root=market_root,
            split='train',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(16, 32)),
                dict(type='PackInputs')
            ]))
    hook = IBVariationalHook(input_size=(4, 2))
    hook._loader = DataLoader(
        dataset, batch_size=16, collate_fn=pseudo_collate)
    stats = hook.update(SimpleNamespace(model=model))
    loss = model.head.loss_ib
    q = loss.table
    assert q.shape == (8, 8)
    assert (q >= 0).all()
    torch.testing.assert_close(q.sum(0), torch.ones(8))
    assert loss.input_scores.shape == (len(dataset), 8)
    torch.testing.assert_close(
        loss.input_scores.sum(1), torch.ones(len(dataset)))
    assert all(math.isfinite(v) for v in stats.values())
    assert stats['IB'] == stats['I_XW'] - stats['I_WY']
    assert stats['I_XW'] >= 0 and stats['I_WY'] >= 0

    # Independent reference: features in eval mode, numpy class means.
    model.eval()
    feats, labels = [], []
    with torch.no_grad():
        for batch in hook._loader:
            data = model.data_preprocessor(batch, False)
            feats.append(model.extract_feat(data['inputs'])[1])
            labels += [int(s.gt_label) for s in data['data_samples']]
    feats = F.normalize(torch.cat(feats), dim=1).numpy()
    labels = np.array(labels)
    centroids = np.stack([feats[labels == c].mean(0) for c in range(8)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    dist = ((feats[:, None] - centroids[None])**2).sum(-1)
    phi = np.exp(-dist) / np.exp(-dist).sum(1, keepdims=True)
    expected = np.stack([phi[labels == c].mean(0) for c in range(8)], 1)
    np.testing.assert_allclose(q.numpy(), expected, rtol=1e-4, atol=1e-6)

    # The loss: a number with gradient, eta = 0.1 times the bound.
    model.train()
    feats = torch.randn(4, 32, requires_grad=True)
    value = loss(feats, torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 3]))
    value.backward()
    assert feats.grad is not None and math.isfinite(float(value.detach()))
    phi_out = soft_cluster_scores(feats.detach(), loss.output_centroids)
    phi_in = loss.input_scores[:4]
    bound = (phi_in * phi_in.log()).sum(1) - (
        phi_out * q[:, [0, 1, 2, 3]].t().log()).sum(1)
    torch.testing.assert_close(value.detach(), 0.1 * bound.mean())


def test_gumbel_temperature_schedule_sets_every_module():
    hook = GumbelTemperatureHook()
    assert hook.temperature(0) == 5.0
    assert math.isclose(hook.temperature(10), 5.0 * math.exp(-0.45))
    mask = MODELS.build(dict(type='GumbelChannelMask', in_channels=4))
    supernet = MODELS.build(
        dict(
            type='FBNetV2Supernet',
            arch=dict(
                stem_channels=8,
                head_channels=None,
                stages=[[[1, 8, 1, 1], [2, (8, 16, 8), 1, 2]]]),
            out_indices=(0, )))
    model = torch.nn.ModuleList([mask, supernet])
    runner = SimpleNamespace(
        model=model,
        epoch=3,
        message_hub=SimpleNamespace(update_scalar=lambda *a: None))
    hook.before_train_epoch(runner)
    tau = 5.0 * math.exp(-0.045 * 3)
    assert math.isclose(mask.tau, tau)
    assert math.isclose(supernet.gumbel_tau, tau)
    assert all(math.isclose(b.gumbel_tau, tau) for b in supernet.blocks())


class FakeVisualizer:
    """Records what a hook sends to the visualiser."""

    def __init__(self):
        self.scalars, self.images = [], []

    def add_scalars(self, scalars, step=0):
        self.scalars.append((dict(scalars), step))

    def add_image(self, name, image, step=0):
        self.images.append((name, image, step))


def test_architecture_logger_sends_da_hoga_and_fbnetv2_scalars():
    torch.manual_seed(0)
    search = MODELS.build(
        dict(
            type='BilevelSearchModel',
            model=dict(
                type='ImageClassifier',
                backbone=dict(
                    type='AttentionBackbone',
                    backbone=dict(
                        type='CifarResNet', depth=20, base_channels=8),
                    attentions=[
                        dict(
                            cfg=dict(type='ChannelWindowAttention'),
                            after=['layer1']),
                        dict(
                            cfg=dict(type='HOGAttention', search=True),
                            in_blocks='layer3.0')
                    ],
                    dummy_input_shape=(1, 3, 16, 16)),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=3,
                          in_channels=32))))
    supernet = MODELS.build(
        dict(
            type='FBNetV2Supernet',
            arch=dict(
                stem_channels=8,
                head_channels=None,
                stages=[[[1, 8, 1, 1], [2, (8, 16, 8), 1, 2]]]),
            out_indices=(0, ),
            flops_input_size=(32, 32)))
    with torch.no_grad():
        search.hoga_architecture.alpha.normal_()
    model = torch.nn.ModuleDict(dict(search=search, supernet=supernet))
    visualizer, lines = FakeVisualizer(), []
    runner = SimpleNamespace(
        model=model,
        epoch=4,
        visualizer=visualizer,
        logger=SimpleNamespace(info=lines.append))
    hook = ArchitectureLoggerHook(interval=2)

    hook.before_train(runner)
    hook.after_train_epoch(runner)  # epoch 5: not a multiple of 2
    runner.epoch = 5
    hook.after_train_epoch(runner)
    assert [step for _, step in visualizer.scalars] == [4, 6]
    assert [(name, step)
            for name, _, step in visualizer.images] == [('da_windows', 4),
                                                        ('da_windows', 6)]
    image = visualizer.images[0][1]
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    scalars = visualizer.scalars[-1][0]

    # DA: window lengths and T of the module after layer1.
    da = 'arch/search.model.backbone.backbone.layer1.attention'
    assert {f'{da}/sum_length', f'{da}/num_windows'} <= set(scalars)
    assert scalars[f'{da}/num_windows'] >= 1

    # HOGA: softmax(alpha) of every primitive on every edge.
    alpha = search.hoga_architecture.alpha.detach()
    primitives = list(search.hoga_architecture.primitives)
    hoga = {k: v for k, v in scalars.items() if k.startswith('arch/hoga/')}
    assert len(hoga) == alpha.numel()
    expected = alpha.softmax(-1)
    for key, value in hoga.items():
        edge, primitive = re.fullmatch(r'arch/hoga/edge(\d+)_\d+-\d+/(\w+)',
                                       key).groups()
        assert math.isclose(
            value,
            float(expected[int(edge), primitives.index(primitive)]),
            abs_tol=1e-6), key

    # FBNetV2: the chosen width and expansion of every block, the MFLOPs.
    for b, block in enumerate(supernet.stage_blocks(0)):
        width, _, expand = block.chosen()
        key = f'arch/supernet/stage0.block{b}'
        assert scalars[f'{key}/out_channels'] == width
        assert math.isclose(
            scalars[f'{key}/expand_ratio'], expand, rel_tol=1e-6)
    assert scalars['arch/supernet/mflops'] == pytest.approx(
        float(supernet.expected_flops(weights='argmax')) / 1e6, rel=1e-6)
    # The log has the same architecture in words.
    assert any(line.startswith('HOGA genotype') for line in lines)
    assert any(line.startswith('FBNetV2 supernet') for line in lines)


def test_ib_term_is_off_for_the_warm_up_epochs(market_root):
    model = tiny_reid()
    dataset_cfg = dict(
        type='Market1501',
        data_root=market_root,
        split='train',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(16, 32)),
            dict(type='PackInputs')
        ])
    dataset = DATASETS.build(dataset_cfg)

    def build_dataloader(cfg, seed=None):
        # The hook asks for the training set, unshuffled, with the test
        # pipeline.
        assert cfg['sampler'] == dict(type='DefaultSampler', shuffle=False)
        return DataLoader(dataset, batch_size=16, collate_fn=pseudo_collate)

    runner = SimpleNamespace(
        model=model,
        epoch=0,
        max_epochs=10,
        seed=0,
        cfg=dict(
            train_dataloader=dict(dataset=dict(dataset_cfg)),
            test_dataloader=dict(dataset=dict(dataset_cfg))),
        build_dataloader=build_dataloader,
        logger=SimpleNamespace(info=lambda *a: None),
        message_hub=SimpleNamespace(update_scalar=lambda *a: None),
        visualizer=FakeVisualizer())
    hook = IBVariationalHook(
        warmup_ratio=0.3, input_size=(4, 2), interval=5, source='pass')
    hook.before_train(runner)
    assert hook.warmup_epochs == 3
    batch = next(iter(hook._loader))
    active = []
    for epoch in range(runner.max_epochs):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        model.train()
        data = model.data_preprocessor(batch, True)
        losses = model(data['inputs'], data['data_samples'], mode='loss')
        active.append('loss_ib' in losses)
        if active[-1]:
            assert torch.isfinite(losses['loss_ib'])
            assert float(losses['loss_ib'].detach()) != 0
    # Off for the first 30% of the epochs (3 of 10), on afterwards.
    assert active == [False] * 3 + [True] * 7
    # The statistics are logged from the first epoch, warm-up or not.
    assert [step for _, step in runner.visualizer.scalars] == [0, 5]
    assert set(runner.visualizer.scalars[0][0]) == {
        'ib/I_XW', 'ib/I_WY', 'ib/IB', 'ib/IBB', 'ib/IBB_reconstructed',
        'ib/IBB_separable'
    }
