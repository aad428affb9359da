"""CSA-PCB and its RPP stage through tools/train.py and tools/test.py."""
import os.path as osp
import re
import sys

import pytest
import torch
from conftest import REPO_ROOT
from test_train_test import run

REID = osp.join(REPO_ROOT, 'configs/reid')


def tiny_config(tmp, name, data_root, extra=''):
    """``configs/reid/<name>`` on the tiny synthetic Market-1501 set at
    96x32 (a 6x2 map at the last stride-1 stage: 6 stripes of one row)."""
    text = f'''_base_ = [{osp.join(REID, name)!r}]
data_root = {data_root!r}
pipeline = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(32, 96)),
            dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query'])]
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
test_dataloader = val_dataloader
# From scratch: the config's ImageNet ResNet-50 is a download.
model = dict(backbone=dict(backbone=dict(init_cfg=None)),
             head=dict(num_classes=8),
             auxiliary_losses=[dict(type='AttentionDeepSupervision',
                 head=dict(type='CSADeepSupervisionHead', num_classes=8))])
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
{extra}
'''
    path = osp.join(tmp, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


@pytest.fixture(scope='module')
def csa_pcb(market_root, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('csa_pcb'))
    cfg = tiny_config(tmp, 'csa-pcb_resnet50_market1501.py', market_root)
    work = osp.join(tmp, 'train')
    result = run([sys.executable, 'tools/train.py', cfg, '--work-dir', work])
    return tmp, work, result.stdout + result.stderr


def test_csa_pcb_trains_with_deep_supervision_and_tests(csa_pcb):
    tmp, work, log = csa_pcb
    # The three auxiliary losses are logged next to the PCB loss.
    for key in ('loss_pcb', 'loss_ds1', 'loss_ds2', 'loss_ds3'):
        assert re.search(rf'{key}: [\d.]+', log), log[-3000:]
    checkpoint = osp.join(work, 'epoch_1.pth')
    state = torch.load(
        checkpoint, map_location='cpu', weights_only=False)['state_dict']
    assert 'auxiliary_losses.0.heads.2.fc.weight' in state
    assert 'backbone.backbone.layer3.attention.base_conv.weight' in state
    cfg = osp.join(tmp, 'csa-pcb_resnet50_market1501.py')
    result = run([
        sys.executable, 'tools/test.py', cfg, checkpoint, '--work-dir',
        osp.join(tmp, 'test')
    ])
    assert re.search(r'reid/mAP: [\d.]+', result.stdout + result.stderr)


def test_csa_pcb_rpp_stage_starts_from_the_pcb_checkpoint(
        csa_pcb, market_root):
    tmp, work, _ = csa_pcb
    checkpoint = osp.join(work, 'epoch_1.pth')
    cfg = tiny_config(tmp, 'csa-pcb-rpp_resnet50_market1501.py', market_root,
                      f'load_from = {checkpoint!r}')
    rwork = osp.join(tmp, 'rpp')
    result = run([sys.executable, 'tools/train.py', cfg, '--work-dir', rwork])
    log = result.stdout + result.stderr
    assert 'Load checkpoint from' in log
    assert re.search(r'reid/mAP: [\d.]+', log)
    state = torch.load(
        osp.join(rwork, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)['state_dict']
    assert 'neck.part_classifier.weight' in state
