import glob
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config

from mmattn.registry import MODELS

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/descriptors/*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_descriptor_config_builds(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    # l2net-csa_*: CSA (seed 002), l2net-sa_*: its SA baseline, else none.
    attention = {
        'l2net-csa': 'CompressedSelfAttention',
        'l2net-sa': 'SelfAttention2d'
    }.get(osp.basename(path).replace('demo_', '').split('_')[0])
    assert (model.backbone.__class__.__name__ == 'AttentionBackbone') == \
        (attention is not None)
    if attention is not None:
        assert attention in {type(m).__name__ for m in model.modules()}
    train = cfg.train_dataloader.dataset
    test = cfg.test_dataloader.dataset
    assert not set(train.sequences) & set(test.sequences)
    if 'demo' not in path:
        # Seed 002 / HardNet schedule.
        assert cfg.optim_wrapper.optimizer == dict(
            type='SGD', lr=10.0, momentum=0.9, weight_decay=1e-4)
        assert cfg.train_cfg.max_epochs == 10
        assert train.num_pairs == 5_000_000 and train.chunk_size == 1024
        assert cfg.param_scheduler[0].end_factor == 0.0
        assert test.pairs_file == 'm50_100000_100000_0.txt'
