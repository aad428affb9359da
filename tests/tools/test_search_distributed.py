"""A DA-FB search on two processes (gloo) through tools/dist_train.sh."""
import json
import os.path as osp
import sys

import torch
from test_search_pipelines import arch_state, reid_config
from test_train_test import run

# Written next to the config and imported by it (custom_imports): every rank
# saves the architecture parameters it ends the search with.
RANK_DUMP_HOOK = '''
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmattn.models.search import searched_network
from mmattn.registry import HOOKS

ARCH_KEYS = ('s_dec', 'l_dec', 's_int', 'l_int')


@HOOKS.register_module()
class DumpArchitecturePerRankHook(Hook):
    priority = 'LOWEST'

    def after_train(self, runner):
        state = {name: value.detach().cpu().clone() for name, value in
                 searched_network(runner.model).state_dict().items()
                 if name.endswith(ARCH_KEYS)}
        torch.save(state, osp.join(runner.work_dir,
                                   f'arch_rank{get_rank()}.pt'))
'''


def test_two_process_search_ends_with_one_architecture(market_root, tmp_path):
    tmp = str(tmp_path)
    with open(osp.join(tmp, 'rank_arch_dump.py'), 'w') as f:
        f.write(RANK_DUMP_HOOK)
    cfg = reid_config(
        tmp, 'da-fb-single_mobilenet-v2_search_market1501.py', market_root,
        "model = dict(model=dict(head=dict(num_classes=8)))\n"
        "train_cfg = dict(max_epochs=1, val_interval=5)\n"
        "custom_imports = dict(imports=['rank_arch_dump'], "
        "allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='ArchitectureLoggerHook', "
        "draw_windows=False), dict(type='ExportArchitectureHook'), "
        "dict(type='DumpArchitecturePerRankHook')]")
    work = osp.join(tmp, 'search')
    result = run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', work],
                 env=dict(PORT='29531', PYTHONPATH=tmp))
    log = result.stdout + result.stderr
    assert 'bilevel search:' in log and 'Epoch(train) [1]' in log

    # Both ranks hold the same architecture (DDP all-reduced every
    # architecture gradient, the carry rule ran on equal parameters).
    rank0 = torch.load(osp.join(work, 'arch_rank0.pt'))
    rank1 = torch.load(osp.join(work, 'arch_rank1.pt'))
    assert rank0.keys() == rank1.keys() and any(
        k.endswith('s_dec') for k in rank0)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key

    # ... which is the one of the checkpoint and of the exported JSON.
    saved = arch_state(osp.join(work, 'epoch_1.pth'))
    assert {f'model.{key}' for key in rank0} == set(saved)
    for key, value in rank0.items():
        assert torch.equal(saved[f'model.{key}'], value), key
    with open(osp.join(work, 'architecture.json')) as f:
        arch = json.load(f)
    assert len(arch['da']) == 4
    moved = [
        e['stats']['searched_windows'] != [[0.0, e['in_channels'] // 2 + 0.5]]
        for e in arch['da'].values()
    ]
    assert any(moved)
    out = osp.join(tmp, 'exported.json')
    run([
        sys.executable, 'tools/export_arch.py', cfg,
        osp.join(work, 'epoch_1.pth'), '--out', out
    ],
        env=dict(PYTHONPATH=tmp))
    with open(out) as f:
        assert json.load(f) == arch
