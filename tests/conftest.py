"""Shared fixtures: tiny synthetic datasets in the real release layouts."""
import os
import os.path as osp

import pytest
import torch

from mmattn.registry import register_all_modules

register_all_modules(init_default_scope=True)
# The tests use tiny tensors: intra-op threads only add synchronisation
# (orders of magnitude on a loaded 2-core machine).
torch.set_num_threads(1)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session', autouse=True)
def offline_pretrained(tmp_path_factory):
    """Tests never download. Configs that start from ImageNet URLs must get
    ``init_cfg=None`` (or a local file) from the test; one that does not
    fails at once naming the URL (``MMATTN_OFFLINE``, see
    mmattn.engine.pretrained). An empty torch hub folder keeps a
    developer's cached checkpoints from hiding such a test. Both variables
    reach the tools the tests run as subprocesses."""
    saved = {k: os.environ.get(k) for k in ('MMATTN_OFFLINE', 'TORCH_HOME')}
    os.environ['MMATTN_OFFLINE'] = '1'
    os.environ['TORCH_HOME'] = str(tmp_path_factory.mktemp('torch_home'))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope='session')
def market_root(tmp_path_factory):
    """A tiny Market-1501-layout dataset from the synthetic generator."""
    from mmattn.datasets.synthetic import TINY_PRESET, make_synthetic_reid
    root = str(tmp_path_factory.mktemp('market') / 'market1501')
    make_synthetic_reid(root, **TINY_PRESET, seed=0)
    return root
