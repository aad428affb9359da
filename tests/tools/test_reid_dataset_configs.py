"""Every Re-ID config builds, and tools/train.py + tools/test.py run on the
DukeMTMC-reID, MSMT17 and CUHK03-NP layouts (issue 2, "done when").

The tiny datasets are the synthetic Market-1501 set of ``market_root``
rewritten into each release's folders and file names, so the readers meet
the real layouts (and real images) through the tools."""
import glob
import os
import os.path as osp
import re
import shutil
import sys

import cv2
import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from test_train_test import run

from mmattn.datasets.synthetic import MARKET1501_FILENAME, SPLIT_DIRS
from mmattn.registry import MODELS

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/reid/*.py')))

# Training identities of each release (the classifier's width).
NUM_IDS = dict(Market1501=751, DukeMTMCReID=702, MSMT17=1041, CUHK03NP=767)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_parses_and_model_builds(path):
    cfg = Config.fromfile(path)
    dataset = cfg.train_dataloader.dataset.type
    assert cfg.test_dataloader.dataset.type == dataset
    if 'synthetic' not in path:
        assert cfg.model.head.num_classes == NUM_IDS[dataset]
    # Built without init_weights: configs that start from
    # data/pretrained/*.pth build without the file.
    model = MODELS.build(cfg.model).eval()
    # Backbone, neck and head widths agree: one small test-mode forward
    # (96 x 48 keeps 6 rows for PCB's stripes at last stride 1).
    with torch.no_grad():
        features = model(torch.rand(2, 3, 96, 48), mode='tensor')
    assert features.shape[0] == 2 and torch.isfinite(features).all()


def market_records(market_root, split):
    """(file name, pid, camera, frame) of one split, junk (-1) left out."""
    records = []
    for name in sorted(os.listdir(osp.join(market_root, SPLIT_DIRS[split]))):
        match = MARKET1501_FILENAME.match(name)
        if match and match['pid'] != '-1':
            records.append((name, int(match['pid']), int(match['cam']),
                            int(match['frame'])))
    return records


def write_duke(market_root, root):
    """DukeMTMC-reID: Market's folders, names ``0001_c2_f0046182.jpg``."""
    for split, folder in SPLIT_DIRS.items():
        os.makedirs(osp.join(root, folder))
        for name, pid, cam, frame in market_records(market_root, split):
            duke_name = f'{pid:04d}_c{cam}_f{frame:07d}.jpg'
            shutil.copy(
                osp.join(market_root, folder, name),
                osp.join(root, folder, duke_name))


def write_cuhk03np(market_root, root, labeled_gallery_drop=2):
    """CUHK03-NP: ``detected/`` and ``labeled/``, each in Market's folders,
    PNG names ``0001_c1_1.png``. The labeled gallery lacks a few images so
    that the two subsets differ."""
    for subset in ('detected', 'labeled'):
        for split, folder in SPLIT_DIRS.items():
            os.makedirs(osp.join(root, subset, folder))
            records = market_records(market_root, split)
            if subset == 'labeled' and split == 'gallery':
                records = records[labeled_gallery_drop:]
            for index, (name, pid, cam, _) in enumerate(records):
                image = cv2.imread(osp.join(market_root, folder, name))
                cv2.imwrite(
                    osp.join(root, subset, folder,
                             f'{pid:04d}_c{cam}_{index}.png'), image)


def write_msmt17(market_root, root):
    """MSMT17: ``train/<pid>/`` and ``test/<pid>/`` folders and the
    ``list_{train,val,query,gallery}.txt`` files; every 4th training image
    is listed in list_val.txt. Market's 0000 distractors are left out (0 is
    an identity in MSMT17)."""
    lists = {name: [] for name in ('train', 'val', 'query', 'gallery')}
    for split in ('train', 'query', 'gallery'):
        folder = 'train' if split == 'train' else 'test'
        for index, (name, pid, cam,
                    frame) in enumerate(market_records(market_root, split)):
            if pid == 0:
                continue
            relative = (f'{pid:04d}/{pid:04d}_{index:03d}_{cam:02d}_'
                        f'0303morning_{frame % 10000:04d}_0.jpg')
            os.makedirs(osp.join(root, folder, f'{pid:04d}'), exist_ok=True)
            shutil.copy(
                osp.join(market_root, SPLIT_DIRS[split], name),
                osp.join(root, folder, relative))
            listed = 'val' if split == 'train' and index % 4 == 3 else split
            lists[listed].append(f'{relative} {pid}')
    for name, lines in lists.items():
        with open(osp.join(root, f'list_{name}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def tiny_layout_options(data_root, size=(64, 32)):
    """Shrink a configs/reid/mobilenetv2_b64_* config to the tiny set: 8
    training identities, 64 x 32 images, batches of 8 (PK 4 x 2), one
    epoch validated at its end, no worker processes."""
    h, w = size
    options = [
        'model.head.num_classes=8', 'train_dataloader.batch_size=8',
        'train_dataloader.sampler.batch_size=8',
        'train_dataloader.sampler.num_instances=2',
        f'train_dataloader.dataset.pipeline.1.scale=({w},{h})',
        f'train_dataloader.dataset.pipeline.3.crop_size=({h},{w})',
        'train_dataloader.dataset.pipeline.3.padding=4',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1', 'randomness.deterministic=True'
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.dataset.data_root={data_root}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    for loader in ('val', 'test'):
        options += [
            f'{loader}_dataloader.batch_size=16',
            f'{loader}_dataloader.dataset.pipeline.1.scale=({w},{h})'
        ]
    return options


def evaluated_samples(log):
    """The total of the last full evaluation progress bar."""
    totals = re.findall(r'\[>+\] (\d+)/\1,', log)
    assert totals, log[-3000:]
    return int(totals[-1])


def mAP_in(log):
    found = re.findall(r'reid/mAP: ([\d.]+)', log)
    assert found, log[-3000:]
    return float(found[-1])


def train(data_root, dataset, work_dir):
    config = osp.join(REPO_ROOT, f'configs/reid/mobilenetv2_b64_{dataset}.py')
    result = run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', *tiny_layout_options(data_root)
    ])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    return result.stdout + result.stderr


def num_test_images(root, *folders):
    return sum(
        len(os.listdir(osp.join(root, *folders, split)))
        for split in ('query', 'bounding_box_test'))


def test_train_and_validate_on_duke_layout(market_root, tmp_path):
    root = str(tmp_path / 'DukeMTMC-reID')
    write_duke(market_root, root)
    log = train(root, 'dukemtmcreid', str(tmp_path / 'work'))
    assert re.search(r'Epoch\(train\) \[1\]\[\d+/\d+\].*loss: [\d.]+', log)
    # The end-of-epoch validation read every query and gallery image.
    assert evaluated_samples(log) == num_test_images(root)
    assert 0 <= mAP_in(log) <= 1


def test_train_and_validate_on_msmt17_lists(market_root, tmp_path):
    root = str(tmp_path / 'msmt17')
    write_msmt17(market_root, root)
    log = train(root, 'msmt17', str(tmp_path / 'work'))
    num_test = 0
    for name in ('list_query.txt', 'list_gallery.txt'):
        with open(osp.join(root, name)) as f:
            num_test += sum(1 for line in f if line.strip())
    assert evaluated_samples(log) == num_test
    assert 0 <= mAP_in(log) <= 1


def test_train_detected_and_test_labeled_cuhk03np(market_root, tmp_path):
    root = str(tmp_path / 'cuhk03-np')
    write_cuhk03np(market_root, root)
    work_dir = str(tmp_path / 'work')
    log = train(root, 'cuhk03np', work_dir)
    assert evaluated_samples(log) == num_test_images(root, 'detected')
    assert 0 <= mAP_in(log) <= 1
    # tools/test.py on the labeled boxes with the detected-trained model.
    config = osp.join(REPO_ROOT, 'configs/reid/mobilenetv2_b64_cuhk03np.py')
    result = run([
        sys.executable, 'tools/test.py', config,
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *tiny_layout_options(root),
        'test_dataloader.dataset.subset=labeled'
    ])
    log = result.stdout + result.stderr
    labeled = num_test_images(root, 'labeled')
    assert labeled == num_test_images(root, 'detected') - 2
    assert evaluated_samples(log) == labeled
    assert 0 <= mAP_in(log) <= 1
