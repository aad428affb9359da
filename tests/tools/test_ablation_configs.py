"""The seeds' ablation rows as configs (configs/ablations, the Duke / CUHK03
variants in configs/reid, the AutoLA_56 / K = 2 searches): each builds the
network its table row names, and representative ones train end to end."""
import glob
import os.path as osp
import re
import sys

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import init_default_scope
from test_pcb_train_test import tiny_config
from test_stra_reid_train import options as stra_options
from test_train_test import run

from mmattn.models.attentions import (CompressedSelfAttention,
                                      StructureRegularizedAttention)
from mmattn.registry import MODELS

ABLATIONS = osp.join(REPO_ROOT, 'configs/ablations')


def build(path):
    init_default_scope('mmattn')
    cfg = Config.fromfile(path)
    return cfg, MODELS.build(cfg.model)


def modules(model, cls):
    return [m for m in model.modules() if isinstance(m, cls)]


@pytest.mark.parametrize('dataset', ['market1501', 'dukemtmcreid'])
def test_seed002_tables_2_to_5(dataset):
    for d in (8, 16, 32, 64):
        _, model = build(
            osp.join(ABLATIONS,
                     f'seed002-table2_csa-d{d}-pcb_resnet50_{dataset}.py'))
        csa = modules(model, CompressedSelfAttention)
        assert [(m.num_bases, m.groups) for m in csa] == [(d, 2)] * 3
    for g in (1, 2, 4, 8):
        _, model = build(
            osp.join(ABLATIONS,
                     f'seed002-table3_csa-g{g}-pcb_resnet50_{dataset}.py'))
        assert [m.groups
                for m in modules(model, CompressedSelfAttention)] == [g] * 3
    for tag, stages in (('stage1', ['layer1']), ('stages23',
                                                 ['layer2', 'layer3']),
                        ('stages123', ['layer1', 'layer2', 'layer3'])):
        _, model = build(
            osp.join(ABLATIONS,
                     f'seed002-table4_csa-{tag}-pcb_resnet50_{dataset}.py'))
        injected = model.backbone.injected_attentions()
        assert sorted(p.split('.')[0] for p in injected) == stages
        # One deep-supervision branch per CSA module.
        assert len(model.auxiliary_losses[0].heads) == len(stages)
    for stem in ('csa-pcb', 'csa-pcb-rpp'):
        cfg, model = build(
            osp.join(ABLATIONS,
                     f'seed002-table5_{stem}-wo-ds_resnet50_{dataset}.py'))
        assert not cfg.model.auxiliary_losses
        assert len(modules(model, CompressedSelfAttention)) == 3


@pytest.mark.parametrize('dataset,classes', [('dukemtmcreid', 702),
                                             ('cuhk03np', 767)])
def test_pcb_and_stra_rows_on_the_other_datasets(dataset, classes):
    names = [
        'pcb', 'pcb-rpp', 'csa-pcb', 'csa-pcb-rpp', 'sa-pcb', 'sa-pcb-rpp'
    ]
    for name in names:
        cfg, model = build(
            osp.join(REPO_ROOT, f'configs/reid/{name}_resnet50_{dataset}.py'))
        assert model.head.num_classes == classes
        for loader in ('train', 'val', 'test'):
            dataset_cfg = cfg[f'{loader}_dataloader'].dataset
            assert dataset_cfg.type == {
                'dukemtmcreid': 'DukeMTMCReID',
                'cuhk03np': 'CUHK03NP'
            }[dataset]
        if 'csa' in name or 'sa-' in name:
            heads = model.auxiliary_losses[0].heads
            assert {h.fc.out_features for h in heads} == {classes}
    cfg, model = build(
        osp.join(REPO_ROOT, f'configs/reid/stra-resnet50_b32_{dataset}.py'))
    assert model.head.num_classes == classes
    assert len(modules(model, StructureRegularizedAttention)) == 3


def test_seed003_table3_rows():
    expected = {
        'local-only': dict(mode=False),
        'wo-interaction': dict(interaction=False),
        'softmax-gate': dict(gate='softmax'),
        'k5': dict(kernel=5),
        'k7': dict(kernel=7),
        'g4': dict(groups=4),
        'g16': dict(groups=16),
        'g32': dict(groups=32),
    }
    paths = sorted(glob.glob(osp.join(ABLATIONS, 'seed003-table3*.py')))
    assert len(paths) == len(expected)
    for path in paths:
        tag = re.search(r'_stra-(.+)_resnet50', path).group(1)
        want = dict(
            mode=True, interaction=True, gate='sigmoid', kernel=3, groups=8)
        want.update(expected[tag])
        _, model = build(path)
        blocks = modules(model, StructureRegularizedAttention)
        assert len(blocks) == 3, path
        block = blocks[0]
        mode = block.mode_attention
        assert (mode is not None) == want['mode'], path
        assert block.local_attention.kernel_size == want['kernel'], path
        assert block.local_attention.groups == want['groups'], path
        if mode is not None:
            assert mode.gate == want['gate'], path
            assert mode.mode_interaction == want['interaction'], path


def test_autola_56_and_k2_searches_and_the_table7_schedule():
    _, model = build(
        osp.join(REPO_ROOT,
                 'configs/search/autola_resnet56_search_cifar10.py'))
    assert model.model.backbone.backbone.depth == 56
    for depth in (20, 32):
        cfg = Config.fromfile(
            osp.join(
                REPO_ROOT,
                f'configs/search/autola-k2_resnet{depth}_search_cifar10.py'))
        backbone = cfg.model.model.backbone
        assert backbone.backbone.depth == depth
        assert backbone.attentions[0].cfg.num_groups == 2
        retrain = Config.fromfile(
            osp.join(
                REPO_ROOT, f'configs/search/autola-k2_resnet{depth}'
                '_retrain-searched_cifar10.py'))
        assert f'autola-k2_resnet{depth}_search' in \
            retrain.model.backbone.arch_file
        assert retrain.train_cfg.max_epochs == 500
    cfg = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/search/autola-56_resnet20_retrain-searched'
            '_cifar10.py'))
    assert 'autola_resnet56_search' in cfg.model.backbone.arch_file
    for name in ('dcs-fb_transreid', 'transreid'):
        cfg = Config.fromfile(
            osp.join(ABLATIONS, f'seed001-table7_{name}_b256-600e_msmt17.py'))
        assert cfg.train_cfg.max_epochs == 600
        assert cfg.train_dataloader.batch_size == 256
        assert cfg.train_dataloader.dataset.type == 'MSMT17'
        assert cfg.model.head.num_classes == 1041


def test_seed002_ablation_trains(market_root, tmp_path):
    # tiny_config writes next to the named config's folder: tmp/ablations.
    for folder in ('reid', 'ablations'):
        (tmp_path / folder).mkdir()
    cfg = tiny_config(
        str(tmp_path / 'reid'), '../ablations/'
        'seed002-table4_csa-stage1-pcb_resnet50_market1501.py', market_root)
    result = run([
        sys.executable, 'tools/train.py', cfg, '--work-dir',
        str(tmp_path / 'work')
    ])
    log = result.stdout + result.stderr
    assert re.search(r'loss_ds1: [\d.]+', log), log[-3000:]
    assert 'loss_ds2' not in log
    assert re.search(r'reid/mAP: [\d.]+', log)


def test_stra_own_recipe_trains_with_plain_cross_entropy(
        market_root, tmp_path):
    cfg = osp.join(REPO_ROOT,
                   'configs/reid/stra-resnet50_b32-ce_market1501.py')
    options = [
        o for o in stra_options(market_root)
        if not o.startswith('train_dataloader.sampler.')
    ]
    result = run([
        sys.executable, 'tools/train.py', cfg, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *options
    ])
    log = result.stdout + result.stderr
    assert re.search(r'loss_id: [\d.]+', log), log[-3000:]
    assert not re.search(r'loss_triplet: [\d.]+', log)
    assert re.search(r'loss_diversity: [\d.]+', log)
    assert re.search(r'reid/mAP: [\d.]+', log)
