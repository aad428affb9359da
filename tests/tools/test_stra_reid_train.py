"""ResNet50-StRA Re-ID (seed 003): the diversity loss reaches the log and the
pretrained stages stay frozen for the configured epochs, through
tools/train.py and tools/test.py."""
import os.path as osp
import re
import sys

import torch
from conftest import REPO_ROOT
from test_train_test import run

CONFIG = osp.join(REPO_ROOT, 'configs/reid/stra-resnet50_b32_market1501.py')


def options(data_root):
    loader = dict(num_workers=0, persistent_workers=False)
    opts = [
        'model.backbone.backbone.init_cfg=None',
        'model.backbone.dummy_input_shape=[1,3,64,32]',
        'model.head.num_classes=8', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=2', 'custom_hooks.0.epochs=1',
        'train_dataloader.batch_size=8',
        'train_dataloader.sampler.batch_size=8',
        'train_dataloader.sampler.num_instances=2',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1', 'randomness.seed=0'
    ]
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_root={data_root}')
        opts += [f'{split}_dataloader.{k}={v}' for k, v in loader.items()]
    return opts + [
        # 64x32 images: the Resize / RandomCrop of the 256x128 pipelines.
        'train_dataloader.dataset.pipeline.1.scale=[32,64]',
        'train_dataloader.dataset.pipeline.3.crop_size=[64,32]',
        'val_dataloader.dataset.pipeline.1.scale=[32,64]',
        'test_dataloader.dataset.pipeline.1.scale=[32,64]',
    ]


def test_stra_reid_trains_with_diversity_loss_and_frozen_stages(
        market_root, tmp_path):
    work = str(tmp_path / 'work')
    result = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work,
        '--cfg-options', *options(market_root)
    ])
    log = result.stdout + result.stderr
    assert re.search(r'loss_diversity: [\d.]+', log), log[-3000:]
    assert 'froze' in log and 'unfroze' in log, log[-3000:]
    first = torch.load(
        osp.join(work, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)['state_dict']
    init = torch.load(
        osp.join(work, 'epoch_2.pth'), map_location='cpu',
        weights_only=False)['state_dict']
    key = 'backbone.backbone.layer1.0.conv1.weight'
    stra = 'backbone.backbone.layer4.0.conv2.mode_attention.mask_net.0.weight'
    assert stra in first
    # Frozen during epoch 0, trained during epoch 1.
    assert not torch.equal(first[key], init[key])
    assert re.search(r'reid/mAP: [\d.]+', log)
