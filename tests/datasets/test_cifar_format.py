"""The CIFAR configs read tiny CIFAR-10 / CIFAR-100 files written in the
release format (python pickle batches) through mmpretrain's own readers,
and train and evaluate a few iterations on them (issue 6, item 1).

mmpretrain's CIFAR10 / CIFAR100 check every batch file against the md5 of
the official release before reading. The tests point those md5 sums at the
generated files (file names unchanged: they must be the release's) and
check that a corrupted batch is still refused."""
import hashlib
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.datasets import CIFAR10, CIFAR100

from mmattn.registry import DATASETS

CONFIG_DIR = osp.join(REPO_ROOT, 'configs/classification')

# Release layouts: folder, {file: label key}, meta file and its names key.
CIFAR10_FILES = ('cifar-10-batches-py', {
    f'data_batch_{i}': 'labels'
    for i in range(1, 6)
} | {
    'test_batch': 'labels'
}, 'batches.meta', 'label_names')
CIFAR100_FILES = ('cifar-100-python', {
    'train': 'fine_labels',
    'test': 'fine_labels'
}, 'meta', 'fine_label_names')


def write_cifar(root, layout, num_classes, per_file, seed=0):
    """Write tiny CIFAR batches under ``root/<folder>``.

    Each batch is a latin-1 readable pickle of a dict with ``data`` (uint8,
    N x 3072: the red, green and blue 32 x 32 planes of each image, row
    major), the label list and ``filenames``, as in the release.

    Returns:
        dict: file name -> (images N x 32 x 32 x 3 uint8, labels list), and
        file name -> md5 under the key ``'md5'``.
    """
    folder, files, meta_name, names_key = layout
    os.makedirs(osp.join(root, folder))
    rng = np.random.default_rng(seed)
    written = {'md5': {}}

    def dump(name, content):
        path = osp.join(root, folder, name)
        with open(path, 'wb') as f:
            pickle.dump(content, f, protocol=2)
        with open(path, 'rb') as f:
            written['md5'][name] = hashlib.md5(f.read()).hexdigest()

    for name, label_key in files.items():
        count = per_file[name] if isinstance(per_file, dict) else per_file
        images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, num_classes, count)]
        content = {
            'batch_label': f'{name} of {len(files)}',
            label_key: labels,
            'data': images.transpose(0, 3, 1, 2).reshape(count, 3072),
            'filenames': [f'image_{name}_{i}.png' for i in range(count)],
        }
        if label_key == 'fine_labels':
            content['coarse_labels'] = [v // 5 for v in labels]
        dump(name, content)
        written[name] = (images, labels)
    meta = {names_key: [f'class_{i}' for i in range(num_classes)]}
    if names_key == 'fine_label_names':
        meta['coarse_label_names'] = [f'super_{i}' for i in range(20)]
    dump(meta_name, meta)
    return written


def accept_generated_files(monkeypatch, dataset_cls, md5):
    """Point the reader's md5 sums at the generated files. A KeyError here
    means the reader expects a file the release layout does not have."""
    monkeypatch.setattr(dataset_cls, 'train_list',
                        [[name, md5[name]]
                         for name, _ in dataset_cls.train_list])
    monkeypatch.setattr(dataset_cls, 'test_list',
                        [[name, md5[name]]
                         for name, _ in dataset_cls.test_list])
    monkeypatch.setattr(
        dataset_cls, 'meta',
        dict(dataset_cls.meta, md5=md5[dataset_cls.meta['filename']]))


@pytest.fixture
def cifar10(tmp_path, monkeypatch):
    root = str(tmp_path / 'cifar10')
    written = write_cifar(root, CIFAR10_FILES, 10, {
        **{
            f'data_batch_{i}': 3
            for i in range(1, 6)
        }, 'test_batch': 6
    })
    accept_generated_files(monkeypatch, CIFAR10, written['md5'])
    return root, written


@pytest.fixture
def cifar100(tmp_path, monkeypatch):
    root = str(tmp_path / 'cifar100')
    written = write_cifar(root, CIFAR100_FILES, 100, dict(train=16, test=6))
    accept_generated_files(monkeypatch, CIFAR100, written['md5'])
    return root, written


def config_dataset(config, split_loader, data_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
    dataset_cfg = cfg[split_loader].dataset
    dataset_cfg.data_root = data_root
    return DATASETS.build(dataset_cfg)


def test_cifar10_config_reads_the_release_batches(cifar10):
    root, written = cifar10
    train = config_dataset('resnet20_cifar10.py', 'train_dataloader', root)
    assert type(train) is CIFAR10 and len(train) == 15
    # data_batch_1..5 in order, pixels back in HWC with red first.
    info = train.get_data_info(7)
    images, labels = written['data_batch_3']
    np.testing.assert_array_equal(info['img'], images[1])
    assert info['gt_label'] == labels[1]
    test = config_dataset('resnet20_cifar10.py', 'val_dataloader', root)
    assert [test.get_data_info(i)['gt_label'] for i in range(len(test))] \
        == written['test_batch'][1]
    # The config's pipeline runs on the arrays.
    assert tuple(train[0]['inputs'].shape) == (3, 32, 32)


def test_cifar100_config_reads_fine_labels(cifar100):
    root, written = cifar100
    train = config_dataset('resnet20_cifar100.py', 'train_dataloader', root)
    assert type(train) is CIFAR100 and len(train) == 16
    images, labels = written['train']
    np.testing.assert_array_equal(train.get_data_info(5)['img'], images[5])
    assert [train.get_data_info(i)['gt_label'] for i in range(16)] == labels
    assert len(
        config_dataset('resnet20_cifar100.py', 'test_dataloader', root)) == 6


def test_a_corrupted_batch_is_still_refused(cifar10):
    root, _ = cifar10
    path = osp.join(root, 'cifar-10-batches-py', 'data_batch_2')
    with open(path, 'r+b') as f:
        f.seek(-20, os.SEEK_END)
        f.write(b'\0' * 4)
    with pytest.raises(RuntimeError, match='Cannot find CIFAR10 dataset'):
        config_dataset('resnet20_cifar10.py', 'train_dataloader', root)


@pytest.mark.parametrize('config, data', [
    ('se_resnet20_cifar10.py', 'cifar10'),
    ('cbam_resnet20_cifar100.py', 'cifar100'),
])
def test_cifar_config_trains_and_evaluates(config, data, request, tmp_path):
    root, _ = request.getfixturevalue(data)
    cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'),
        'train_cfg.max_epochs': 1,
        'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'log_level': 'WARNING',
    })
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(
            batch_size=8, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = root
    runner = Runner.from_cfg(cfg)
    runner.train()  # 2 iterations, then validation on the test batch
    assert runner.iter == 2
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_1.pth'))
    metrics = runner.test()
    assert 0 <= metrics['accuracy/top1'] <= 100
