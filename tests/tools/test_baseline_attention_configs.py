"""The comparison baselines' configs train end to end through the tools:
PCB + SA (seed 002 table 1), SASA Re-ID (seed 003 table 2), HardNet / RALNet
+ SA (seed 002 tables 7-8) and the seed 004 table 5 ImageNet rows at a
small input size."""
import os.path as osp
import re
import sys

import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner
from test_descriptor_pipeline import tiny_options
from test_pcb_train_test import tiny_config
from test_search_pipelines import make_tiny_image_folder
from test_stra_reid_train import options as stra_options
from test_train_test import run

from mmattn.registry import register_all_modules


def train(cfg, work, *options):
    args = [sys.executable, 'tools/train.py', cfg, '--work-dir', work]
    if options:
        args += ['--cfg-options', *options]
    result = run(args)
    return result.stdout + result.stderr


def test_pcb_with_seed002_self_attention_and_deep_supervision(
        market_root, tmp_path):
    cfg = tiny_config(
        str(tmp_path), 'sa-pcb_resnet50_market1501.py', market_root)
    log = train(cfg, str(tmp_path / 'work'))
    for key in ('loss_pcb', 'loss_ds1', 'loss_ds2', 'loss_ds3'):
        assert re.search(rf'{key}: [\d.]+', log), log[-3000:]
    assert re.search(r'reid/mAP: [\d.]+', log)
    state = torch.load(
        osp.join(tmp_path, 'work', 'epoch_1.pth'),
        map_location='cpu',
        weights_only=True)['state_dict']
    assert 'backbone.backbone.layer1.attention.alpha' in state
    assert state['backbone.backbone.layer1.attention.value_conv.weight'] \
        .shape[:2] == (256, 256)


def test_sasa_reid(market_root, tmp_path):
    cfg = osp.join(REPO_ROOT, 'configs/reid/sasa-resnet50_b32_market1501.py')
    work = str(tmp_path / 'work')
    log = train(cfg, work, *stra_options(market_root))
    assert re.search(r'reid/mAP: [\d.]+', log), log[-3000:]
    assert not re.search(r'loss_diversity: [\d.]+', log)
    state = torch.load(
        osp.join(work, 'epoch_2.pth'), map_location='cpu',
        weights_only=True)['state_dict']
    assert 'backbone.backbone.layer4.0.conv2.rel_row' in state


def test_descriptors_with_self_attention_and_robust_angular_loss(tmp_path):
    from mmattn.datasets.synthetic import (TINY_PATCHES_PRESET,
                                           make_synthetic_patches)
    brown_root = str(tmp_path / 'synthetic')
    make_synthetic_patches(brown_root, **TINY_PATCHES_PRESET, seed=0)
    cfg = osp.join(REPO_ROOT,
                   'configs/descriptors/l2net-sa_ral_b1024_brown-liberty.py')
    options = [
        o.replace('train_dataloader.dataset.num_pairs=64',
                  'train_dataloader.dataset.num_pairs=32')
        for o in tiny_options(osp.join(brown_root, 'brown'), epochs=1)
    ]
    options += [
        'train_dataloader.dataset.sequences=[liberty]',
        'val_dataloader.dataset.sequences=[notredame,yosemite]',
        'test_dataloader.dataset.sequences=[notredame,yosemite]'
    ]
    log = train(cfg, str(tmp_path / 'work'), *options)
    assert re.search(r'brown/fpr95: [\d.]+', log), log[-3000:]


def test_seed004_table5_imagenet_rows_train(tmp_path):
    register_all_modules(init_default_scope=False)
    data = str(tmp_path / 'data')
    make_tiny_image_folder(data, classes=2, train=2, test=1)
    for name, sizes in (('gc', None), ('ge', (16, 8, 4, 2)), ('aa', (8, 4,
                                                                     2))):
        base = osp.join(
            REPO_ROOT, f'configs/classification/{name}_resnet50_8xb32_in1k.py')
        # The 64 x 64 input changes the map sizes the GE / AA rows name.
        if name == 'gc':
            attentions = ''
        elif name == 'ge':
            attentions = 'backbone=dict(attentions=[' + ', '.join(
                f"dict(cfg=dict(type='GatherExciteAttention', "
                f"spatial_size={s}), in_blocks='layer{i + 1}.*')"
                for i, s in enumerate(sizes)) + ']), '
        else:
            attentions = 'backbone=dict(attentions=[' + ', '.join(
                f"dict(cfg=dict(type='AttentionAugmentedConv2d', "
                f"spatial_size={s}), replace='layer{i + 2}.*.conv2')"
                for i, s in enumerate(sizes)) + ']), '
        cfg = str(tmp_path / f'{name}.py')
        with open(cfg, 'w') as f:
            f.write(f'''_base_ = [{base!r}]
folder = dict(_delete_=True, type='CustomDataset', data_root={data!r},
              pipeline=[dict(type='LoadImageFromFile'),
                        dict(type='Resize', scale=(64, 64)),
                        dict(type='PackInputs')])
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(folder, data_prefix='train'))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(folder, data_prefix='test'))
test_dataloader = val_dataloader
model = dict({attentions}head=dict(num_classes=2, topk=(1, )))
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
''')
        # In this process: three tool runs would mostly time start-ups.
        config = Config.fromfile(cfg)
        config.work_dir = str(tmp_path / f'work_{name}')
        runner = Runner.from_cfg(config)
        runner.train()
        assert 'val/accuracy/top1' in runner.message_hub.log_scalars, name
        assert runner.model.backbone.injected_attentions()
