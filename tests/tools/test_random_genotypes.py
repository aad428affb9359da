"""Rand_HOGA (seed 004 table 6): the random genotype sampler, its configs
and tools/train_random_genotypes.py (2 genotypes, 1 epoch each)."""
import json
import os.path as osp
import shutil
import sys

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from test_search_pipelines import make_tiny_image_folder
from test_train_test import run

from mmattn.models.attentions.hoga import Genotype, build_genotype, hoga_edges
from mmattn.registry import MODELS


def test_random_genotype_is_seeded_and_has_no_none_edge():
    a = Genotype.random(4, seed=3)
    assert a == Genotype.random(4, seed=3)
    assert [(s, t) for _, s, t in a.edges] == hoga_edges(4)
    assert 'none' not in a.ops
    draws = {Genotype.random(4, seed=s).ops for s in range(20)}
    assert len(draws) == 20
    # Uniform over the 8 non-'none' primitives: all of them appear.
    assert {op
            for ops in draws
            for op in ops} == {
                'skip_connect', 'se', 'channel_attention_v2',
                'spatial_sep_conv_3x3', 'spatial_dil_conv_3x3',
                'norm_sep_conv_3x3', 'norm_dil_conv_3x3', 'cbam'
            }
    only = Genotype.random(2, seed=0, primitives=['none', 'se'])
    assert only.ops == ('se', ) * 3


def test_build_genotype_random_form_and_bad_input():
    assert build_genotype(dict(random_seed=5, num_groups=4)) == \
        Genotype.random(4, 5)
    assert build_genotype(
        dict(random_seed=1, num_groups=2, primitives=['se',
                                                      'cbam'])).num_groups == 2
    with pytest.raises(ValueError, match='unexpected keys'):
        build_genotype(dict(random_seed=1, groups=4))
    with pytest.raises(ValueError, match='only .none.'):
        Genotype.random(4, 0, primitives=['none'])
    with pytest.raises(ValueError, match='seed must be an int'):
        Genotype.random(4, seed='0')


@pytest.mark.parametrize('depth,paper', [(20, 0.35), (32, 0.59)])
def test_rand_hoga_configs_build_near_the_paper_size(depth, paper):
    path = osp.join(REPO_ROOT, 'configs/classification',
                    f'rand-hoga_resnet{depth}_cifar10.py')
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    hogas = [m for m in model.modules() if type(m).__name__ == 'HOGAttention']
    assert len(hogas) == 3 * (depth - 2) // 6
    assert all(h.genotype == Genotype.random(4, 0) for h in hogas)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    # Seed 004 table 6: 0.35M / 0.59M; seed 0 has 0.337M / 0.575M.
    assert abs(params / paper - 1) < 0.07, params


def test_tool_trains_two_genotypes_and_refuses_to_overwrite(tmp_path):
    tmp = str(tmp_path)
    data = osp.join(tmp, 'data')
    make_tiny_image_folder(data, classes=3, train=4, test=2)
    base = osp.join(REPO_ROOT,
                    'configs/classification/rand-hoga_resnet20_cifar10.py')
    cfg = osp.join(tmp, 'tiny_rand_hoga.py')
    with open(cfg, 'w') as f:
        f.write(f'''_base_ = [{base!r}]
folder = dict(_delete_=True, type='CustomDataset', data_root={data!r},
              pipeline=[dict(type='LoadImageFromFile'),
                        dict(type='PackInputs')])
train_dataloader = dict(batch_size=6, num_workers=0,
                        dataset=dict(folder, data_prefix='train'))
val_dataloader = dict(batch_size=6, num_workers=0,
                      dataset=dict(folder, data_prefix='test'))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=3))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
''')
    work = osp.join(tmp, 'work')
    tool = [
        sys.executable, 'tools/train_random_genotypes.py', cfg, '--work-dir',
        work
    ]
    run(tool + ['--num-genotypes', '2'])
    with open(osp.join(work, 'random_genotypes.json')) as f:
        summary = json.load(f)
    assert [r['seed'] for r in summary['runs']] == [0, 1]
    for row in summary['runs']:
        assert osp.isfile(osp.join(work, f"seed_{row['seed']}", 'epoch_1.pth'))
        assert 0 <= row['best'] <= 100
        assert Genotype.from_dict(row['genotype']) == \
            Genotype.random(4, row['seed'])
        assert 0.3e6 < row['params'] < 0.4e6
    assert summary['runs'][0]['genotype'] != summary['runs'][1]['genotype']
    assert summary['best']['best'] == max(r['best'] for r in summary['runs'])
    with open(osp.join(work, 'random_genotypes.md')) as f:
        table = f.read()
    assert table.startswith('# Random HOGA genotypes')
    assert '| 1 |' in table and 'Best: seed' in table
    # Nothing is overwritten without being asked.
    again = run(tool + ['--seeds', '1'], check=False)
    assert again.returncode != 0
    assert 'exists' in again.stderr
    # --skip-existing recollects the finished runs without training.
    other = osp.join(tmp, 'other')
    shutil.copytree(osp.join(work, 'seed_1'), osp.join(other, 'seed_1'))
    result = run([
        sys.executable, 'tools/train_random_genotypes.py', cfg, '--work-dir',
        other, '--seeds', '1', '--skip-existing'
    ])
    assert 'train.py' not in result.stdout
    with open(osp.join(other, 'random_genotypes.json')) as f:
        assert json.load(f)['best']['seed'] == 1


def test_tool_names_the_key_for_a_config_without_random_genotypes(tmp_path):
    result = run([
        sys.executable, 'tools/train_random_genotypes.py',
        osp.join(REPO_ROOT, 'configs/classification/hoga_resnet20_cifar10.py'),
        '--work-dir',
        str(tmp_path / 'w'), '--num-genotypes', '1'
    ],
                 check=False)
    assert result.returncode != 0
    assert 'cfg.genotype=dict(random_seed' in result.stderr
