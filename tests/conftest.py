"""Shared fixtures: tiny synthetic datasets in the real release layouts."""
import os.path as osp

import pytest
import torch

from mmattn.registry import register_all_modules

register_all_modules(init_default_scope=True)
# The tests use tiny tensors: intra-op threads only add synchronisation
# (orders of magnitude on a loaded 2-core machine).
torch.set_num_threads(1)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session')
def market_root(tmp_path_factory):
    """A tiny Market-1501-layout dataset from the synthetic generator."""
    from mmattn.datasets.synthetic import TINY_PRESET, make_synthetic_reid
    root = str(tmp_path_factory.mktemp('market') / 'market1501')
    make_synthetic_reid(root, **TINY_PRESET, seed=0)
    return root
