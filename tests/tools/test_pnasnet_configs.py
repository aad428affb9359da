"""PNAS + SE / CBAM / AutoLA (seed 004 table 3): timm's PNASNet-5-Large
through mmpretrain's TIMMBackbone with attentions injected by
AttentionBackbone; every config builds (no download) and one trains two
iterations at a small input size through tools/train.py."""
import os.path as osp
import re
import sys

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from test_search_pipelines import make_tiny_image_folder
from test_train_test import run

from mmattn.registry import MODELS

pytest.importorskip('timm')  # requirements/optional.txt (pinned)

CONFIG_DIR = osp.join(REPO_ROOT, 'configs/classification')
#: Seed 004 table 3 (CIFAR-10 PNAS): parameters in millions.
PAPER = {'': 0.72, '-se': 0.75, '-cbam': 0.76, '-autola': 0.91}


def _build(variant):
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, f'pnasnet5-large{variant}_8xb32_in1k.py'))
    assert cfg.model.backbone.backbone.pretrained is False
    return cfg, MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def counts():
    torch.manual_seed(0)
    result = {}
    for variant in PAPER:
        _, model = _build(variant)
        result[variant] = (sum(p.numel() for p in model.parameters()),
                           model.backbone.injected_attentions())
    return result


def test_plain_network_is_timm_pnasnet5large(counts):
    params, injected = counts['']
    assert not injected
    # timm's pnasnet5large: 86.06M with its 1000-way classifier.
    assert abs(params / 86.06e6 - 1) < 0.005, params


@pytest.mark.parametrize('variant,kind,where', [
    ('-se', 'SEAttention', 'cell_{}'),
    ('-cbam', 'CBAMAttention', 'cell_{}'),
    ('-autola', 'HOGAttention', 'cell_{}.conv_1x1'),
])
def test_attention_sits_in_every_cell(counts, variant, kind, where):
    params, injected = counts[variant]
    assert len(injected) == 12
    for i in range(12):
        path = f'timm_model.{where.format(i)}.attention'
        assert path in injected, sorted(injected)
        assert type(injected[path]).__name__ == kind
    # The paper's order of the overheads on PNAS: SE < CBAM (table 3).
    overhead = params / counts[''][0] - 1
    assert 0.10 < overhead < 0.17, overhead
    if variant == '-cbam':
        assert params > counts['-se'][0]


def test_parameter_ratios_to_the_paper(counts):
    """The measured sizes are ~120x the paper's (an ImageNet PNASNet-5-Large
    against the paper's 0.72M CIFAR-10 PNAS); printed for the report."""
    for variant, paper in PAPER.items():
        ratio = counts[variant][0] / (paper * 1e6)
        print(f'pnasnet5-large{variant}: {counts[variant][0] / 1e6:.2f}M, '
              f'{ratio:.1f}x seed 004 table 3 ({paper}M)')
        assert 95 < ratio < 135


def test_autola_config_trains_two_iterations(tmp_path):
    tmp = str(tmp_path)
    data = osp.join(tmp, 'data')
    make_tiny_image_folder(data, classes=2, train=2, test=1)
    base = osp.join(CONFIG_DIR, 'pnasnet5-large-autola_8xb32_in1k.py')
    cfg = osp.join(tmp, 'tiny_pnas.py')
    with open(cfg, 'w') as f:
        f.write(f'''_base_ = [{base!r}]
folder = dict(_delete_=True, type='CustomDataset', data_root={data!r},
              pipeline=[dict(type='LoadImageFromFile'),
                        dict(type='Resize', scale=(64, 64)),
                        dict(type='PackInputs')])
train_dataloader = dict(batch_size=2, num_workers=0,
                        dataset=dict(folder, data_prefix='train'))
val_dataloader = dict(batch_size=2, num_workers=0,
                      dataset=dict(folder, data_prefix='test'))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=2, topk=(1, )))
data_preprocessor = dict(num_classes=2)
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, save_best=None))
''')
    result = run([
        sys.executable, 'tools/train.py', cfg, '--work-dir',
        osp.join(tmp, 'work')
    ])
    log = result.stdout + result.stderr
    assert re.search(r'Epoch\(train\) \[1\]\[2/2\].*loss: [\d.]+', log), \
        log[-3000:]
    assert re.search(r'accuracy/top1: [\d.]+', log)
