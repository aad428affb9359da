"""Search -> export -> retrain -> test through the tools, on tiny data."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from PIL import Image

SEARCH = osp.join(REPO_ROOT, 'configs/search')
RETRAIN_SEARCHED = 'autola_resnet32_retrain-searched_cifar10.py'


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable] + args,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    return result.stdout + result.stderr


def reid_config(tmp, base, data_root, extra):
    """A config inheriting ``base`` shrunk to the tiny Re-ID set (no random
    transforms, so that runs are reproducible)."""
    text = f'''_base_ = [{osp.join(SEARCH, base)!r}]
data_root = {data_root!r}
pipeline = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(32, 64)),
            dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query'])]
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='PKSampler', num_instances=2, batch_size=8),
    dataset=dict(data_root=data_root, pipeline=pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
{extra}
'''
    path = osp.join(tmp, base)
    with open(path, 'w') as f:
        f.write(text)
    return path


def arch_state(checkpoint):
    state = torch.load(
        checkpoint, map_location='cpu', weights_only=False)['state_dict']
    return {
        k: v
        for k, v in state.items()
        if k.endswith(('s_dec', 'l_dec', 's_int', 'l_int'))
    }


@pytest.fixture(scope='module')
def da_search(market_root, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('da'))
    cfg = reid_config(
        tmp, 'da-fb-single_mobilenet-v2_search_market1501.py', market_root,
        "model = dict(model=dict(head=dict(num_classes=8)))\n"
        "train_cfg = dict(max_epochs=2, val_interval=5)")
    work = osp.join(tmp, 'search')
    log = run(['tools/train.py', cfg, '--work-dir', work])
    return tmp, cfg, work, log


def test_da_fb_search_export_retrain_test(da_search, market_root):
    tmp, cfg, work, log = da_search
    assert 'DA backbone.backbone.layer2.attention' in log
    hook_json = osp.join(work, 'architecture.json')
    with open(hook_json) as f:
        arch = json.load(f)
    assert len(arch['da']) == 4
    # The windows moved during the search.
    moved = [
        e['stats']['searched_windows'] != [[0.0, e['in_channels'] // 2 + 0.5]]
        for e in arch['da'].values()
    ]
    assert any(moved)
    out = osp.join(tmp, 'exported.json')
    run([
        'tools/export_arch.py', cfg,
        osp.join(work, 'epoch_2.pth'), '--out', out
    ])
    with open(out) as f:
        assert json.load(f) == arch

    retrain = reid_config(
        tmp, 'da-fb-single_mobilenet-v2_retrain_market1501.py', market_root,
        f"model = dict(head=dict(num_classes=8), "
        f"backbone=dict(arch_file={out!r}))\n"
        "train_cfg = dict(max_epochs=1, val_interval=5)")
    rwork = osp.join(tmp, 'retrain')
    run(['tools/train.py', retrain, '--work-dir', rwork])
    state = torch.load(
        osp.join(rwork, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)['state_dict']
    assert not any(k.endswith('s_dec') for k in state)
    log = run([
        'tools/test.py', retrain,
        osp.join(rwork, 'epoch_1.pth'), '--work-dir',
        osp.join(tmp, 'test')
    ])
    assert 'reid/mAP' in log


def test_resumed_search_continues_with_the_same_architecture(da_search):
    tmp, cfg, work, _ = da_search
    resumed = osp.join(tmp, 'resumed')
    os.makedirs(resumed)
    shutil.copy(osp.join(work, 'epoch_1.pth'), resumed)
    log = run([
        'tools/train.py', cfg, '--work-dir', resumed, '--resume',
        osp.join(resumed, 'epoch_1.pth')
    ])
    assert 'resumed epoch: 1' in log
    first, second = arch_state(osp.join(work, 'epoch_2.pth')), arch_state(
        osp.join(resumed, 'epoch_2.pth'))
    assert first.keys() == second.keys() and first
    for key in first:
        torch.testing.assert_close(second[key], first[key])


def test_dcs_dnas_search_retrain_test(market_root, tmp_path):
    tmp = str(tmp_path)
    cfg = reid_config(
        tmp, 'dcs-dnas_fbnetv2_search_market1501.py', market_root,
        "model = dict(model=dict(head=dict(num_classes=8), backbone=dict("
        "backbone=dict(flops_input_size=(64, 32)))))\n"
        "train_cfg = dict(max_epochs=1, schedule='interleave', "
        "val_interval=5)")
    work = osp.join(tmp, 'search')
    log = run(['tools/train.py', cfg, '--work-dir', work])
    assert 'arch_loss_search' in log and 'IB before epoch 1' in log
    out = osp.join(work, 'architecture.json')
    with open(out) as f:
        arch = json.load(f)
    assert list(arch['fbnetv2']) == ['backbone.backbone']
    assert len(arch['dcs']) == 4
    retrain = reid_config(
        tmp, 'dcs-dnas_fbnetv2_retrain_market1501.py', market_root,
        f"model = dict(head=dict(num_classes=8), "
        f"backbone=dict(arch_file={out!r}))\n"
        "train_cfg = dict(max_epochs=1, val_interval=5)")
    rwork = osp.join(tmp, 'retrain')
    log = run(['tools/train.py', retrain, '--work-dir', rwork])
    assert 'loss_ib' in log
    state = torch.load(
        osp.join(rwork, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)['state_dict']
    assert not any('logits' in k for k in state)
    widths = [
        b['out_channels']
        for s in arch['fbnetv2']['backbone.backbone']['arch']['stages']
        for b in s
    ]
    assert state[
        'backbone.backbone.stage4.wrapped.3.project.conv.weight'].shape[
            0] == widths[-1]
    log = run([
        'tools/test.py', retrain,
        osp.join(rwork, 'epoch_1.pth'), '--work-dir',
        osp.join(tmp, 'test')
    ])
    assert 'reid/mAP' in log


def make_tiny_image_folder(root, classes=4, train=6, test=2):
    rng = np.random.default_rng(0)
    for split, count in (('train', train), ('test', test)):
        for c in range(classes):
            folder = osp.join(root, split, f'class{c}')
            os.makedirs(folder)
            for i in range(count):
                image = rng.integers(0, 60, (32, 32, 3)) + 60 * c
                Image.fromarray(image.astype(np.uint8)).save(
                    osp.join(folder, f'{i}.png'))


def test_autola_search_retrain_test(tmp_path):
    tmp = str(tmp_path)
    data = osp.join(tmp, 'data')
    make_tiny_image_folder(data)
    extra = f'''
train_dataloader = dict(batch_size=4, num_workers=0, dataset=dict(
    _delete_=True, type='CustomDataset', data_root={data!r},
    data_prefix='train', pipeline=[dict(type='LoadImageFromFile'),
                                   dict(type='PackInputs')]))
val_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(
    _delete_=True, type='CustomDataset', data_root={data!r},
    data_prefix='test', pipeline=[dict(type='LoadImageFromFile'),
                                  dict(type='PackInputs')]))
test_dataloader = val_dataloader
data_preprocessor = dict(num_classes=4)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
'''
    cfg = osp.join(tmp, 'search.py')
    with open(cfg, 'w') as f:
        f.write(
            '_base_ = '
            f"[{osp.join(SEARCH, 'autola_resnet20_search_cifar10.py')!r}]\n" +
            extra + "model = dict(model=dict(head=dict(num_classes=4)))\n"
            "train_cfg = dict(max_epochs=1, val_interval=5)\n")
    work = osp.join(tmp, 'search')
    log = run(['tools/train.py', cfg, '--work-dir', work])
    assert 'HOGA genotype (9 modules)' in log
    out = osp.join(work, 'architecture.json')
    with open(out) as f:
        arch = json.load(f)
    assert len(arch['hoga']['genotype']['edges']) == 10
    retrain = osp.join(tmp, 'retrain.py')
    with open(retrain, 'w') as f:
        f.write(f"_base_ = [{osp.join(SEARCH, RETRAIN_SEARCHED)!r}]\n" +
                extra + f"model = dict(head=dict(num_classes=4), "
                f"backbone=dict(arch_file={out!r}))\n"
                "train_cfg = dict(max_epochs=1, val_interval=5)\n")
    rwork = osp.join(tmp, 'retrain')
    run(['tools/train.py', retrain, '--work-dir', rwork])
    log = run([
        'tools/test.py', retrain,
        osp.join(rwork, 'epoch_1.pth'), '--work-dir',
        osp.join(tmp, 'test')
    ])
    assert 'accuracy/top1' in log
