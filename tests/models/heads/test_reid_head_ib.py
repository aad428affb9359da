"""The IB bound on the TransReID head (DCS-FB on TransReID, seed 001)."""
import math
import os.path as osp
from types import SimpleNamespace

import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmattn.engine.hooks import IBVariationalHook
from mmattn.models.attentions import DCSViTAttention
from mmattn.registry import DATASETS, MODELS


def tiny_dcs_transreid():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/search/dcs-fb_transreid_market1501.py'))
    model = cfg.model
    model.backbone.backbone.update(
        arch=dict(
            embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        img_size=(64, 32),
        num_cameras=4,
        init_cfg=None)
    model.head.update(in_channels=32, num_classes=8)
    torch.manual_seed(0)
    return MODELS.build(model)


def test_dcs_transreid_trains_with_the_ib_bound(market_root):
    model = tiny_dcs_transreid()
    # The first block, and the last one's copies in both JPM branches.
    assert sum(isinstance(m, DCSViTAttention) for m in model.modules()) == 3
    dataset = DATASETS.build(
        dict(
            type='Market1501',
            data_root=market_root,
            split='train',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(32, 64)),
                dict(type='PackInputs', algorithm_keys=['camera_id'])
            ]))
    hook = IBVariationalHook(input_size=(4, 2))
    hook._loader = DataLoader(
        dataset, batch_size=16, collate_fn=pseudo_collate)
    stats = hook.update(SimpleNamespace(model=model))
    assert all(math.isfinite(v) for v in stats.values())
    head = model.head
    torch.testing.assert_close(head.loss_ib.table.sum(0), torch.ones(8))

    batch = pseudo_collate([dataset[i] for i in range(8)])
    data = model.data_preprocessor(batch, True)
    head.loss_ib.active = False
    assert 'loss_ib' not in model(**data, mode='loss')
    head.loss_ib.active = True
    losses = model(**data, mode='loss')
    # Both forms of the bound are logged; only loss_* enter the sum.
    assert set(losses) == {
        'loss_id', 'loss_triplet', 'loss_ib', 'ibb_reconstructed',
        'ibb_separable'
    }
    torch.testing.assert_close(losses['loss_ib'],
                               0.1 * losses['ibb_reconstructed'])
    assert not losses['ibb_separable'].requires_grad
    assert torch.isfinite(losses['loss_ib'])
    losses['loss_ib'].backward()
    masks = [m for m in model.modules() if isinstance(m, DCSViTAttention)]
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for m in masks
               for p in m.parameters())
