"""IBVariationalHook (the table Q) and GumbelTemperatureHook."""
import math
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmattn.engine.hooks import GumbelTemperatureHook, IBVariationalHook
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
                mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True)))


def test_ib_table_is_a_conditional_distribution(market_root):
    model = tiny_reid()
    dataset = DATASETS.build(
        dict(type='Market1501', data_root=market_root, split='train',
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='Resize', scale=(16, 32)),
                       dict(type='PackInputs')]))
    hook = IBVariationalHook(input_size=(4, 2))
    hook._loader = DataLoader(dataset, batch_size=16,
                              collate_fn=pseudo_collate)
    stats = hook.update(SimpleNamespace(model=model))
    loss = model.head.loss_ib
    q = loss.table
    assert q.shape == (8, 8)
    assert (q >= 0).all()
    torch.testing.assert_close(q.sum(0), torch.ones(8))
    assert loss.input_scores.shape == (len(dataset), 8)
    torch.testing.assert_close(loss.input_scores.sum(1),
                               torch.ones(len(dataset)))
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
        dict(type='FBNetV2Supernet',
             arch=dict(stem_channels=8, head_channels=None,
                       stages=[[[1, 8, 1, 1], [2, (8, 16, 8), 1, 2]]]),
             out_indices=(0, )))
    model = torch.nn.ModuleList([mask, supernet])
    runner = SimpleNamespace(
        model=model, epoch=3,
        message_hub=SimpleNamespace(update_scalar=lambda *a: None))
    hook.before_train_epoch(runner)
    tau = 5.0 * math.exp(-0.045 * 3)
    assert math.isclose(mask.tau, tau)
    assert math.isclose(supernet.gumbel_tau, tau)
    assert all(math.isclose(b.gumbel_tau, tau) for b in supernet.blocks())
