import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmattn.datasets import CUHK03NP, MSMT17, DukeMTMCReID, Market1501

IMG = np.full((16, 8, 3), 127, np.uint8)


def write_images(folder, names):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        cv2.imwrite(osp.join(folder, name), IMG)


def test_market1501_splits_relabel_and_protocol(market_root):
    train = Market1501(market_root, split='train')
    labels = sorted({info['gt_label'] for info in train})
    assert labels == list(range(len(labels)))  # contiguous
    assert train.metainfo['num_ids'] == len(labels)
    assert all(0 <= info['camera_id'] for info in train)

    query = Market1501(market_root, split='query')
    gallery = Market1501(market_root, split='gallery')
    test = Market1501(market_root, split='test')
    assert len(test) == len(query) + len(gallery)
    assert [i['is_query'] for i in test] == [True] * len(query) + \
        [False] * len(gallery)
    # Test identities keep their original ids; -1 junk is dropped,
    # 0000 distractors stay in the gallery.
    names = os.listdir(osp.join(market_root, 'bounding_box_test'))
    junk = [n for n in names if n.startswith('-1_')]
    assert junk and len(gallery) == len(names) - len(junk)
    assert any(info['gt_label'] == 0 for info in gallery)
    assert train.test_mode is False and test.test_mode is True


def test_market1501_name_parsing(tmp_path):
    root = str(tmp_path)
    write_images(
        osp.join(root, 'bounding_box_train'),
        ['0002_c1s1_000451_03.jpg', '0007_c6s3_012345_01.jpg'])
    write_images(osp.join(root, 'query'), ['0002_c3s2_000111_00.jpg'])
    write_images(
        osp.join(root, 'bounding_box_test'),
        ['0002_c1s1_000452_01.jpg', '-1_c2s1_000001_00.jpg'])
    open(osp.join(root, 'bounding_box_train', 'Thumbs.db'), 'w').close()
    train = Market1501(root)
    assert [(i['gt_label'], i['camera_id']) for i in train] == [(0, 0), (1, 5)]
    query = Market1501(root, split='query')
    assert query[0]['gt_label'] == 2 and query[0]['camera_id'] == 2


def test_duke_and_cuhk03np_layouts(tmp_path):
    duke = str(tmp_path / 'duke')
    write_images(
        osp.join(duke, 'bounding_box_train'),
        ['0001_c2_f0046182.jpg', '0005_c1_f0000001.jpg'])
    write_images(osp.join(duke, 'query'), ['0010_c3_f0000002.jpg'])
    write_images(osp.join(duke, 'bounding_box_test'), ['0010_c5_f0000003.jpg'])
    ds = DukeMTMCReID(duke, split='test')
    assert [(i['gt_label'], i['camera_id'], i['is_query']) for i in ds] == \
        [(10, 2, True), (10, 4, False)]

    cuhk = str(tmp_path / 'cuhk03-np')
    for subset in ('detected', 'labeled'):
        write_images(
            osp.join(cuhk, subset, 'bounding_box_train'),
            ['0001_c1_1.png', '0001_c2_2.png', '0003_c1_1.png'])
        write_images(osp.join(cuhk, subset, 'query'), ['0100_c1_1.png'])
        write_images(
            osp.join(cuhk, subset, 'bounding_box_test'), ['0100_c2_3.png'])
    train = CUHK03NP(cuhk, subset='labeled')
    assert sorted({i['gt_label'] for i in train}) == [0, 1]
    assert train[0]['img_path'].endswith(
        osp.join('labeled', 'bounding_box_train', '0001_c1_1.png'))
    with pytest.raises(ValueError, match="subset must be 'detected'"):
        CUHK03NP(cuhk, subset='both')


def write_msmt17(root, lines=None):
    write_images(
        osp.join(root, 'train', '0000'),
        ['0000_000_01_0303morning_0015_0.jpg'])
    write_images(
        osp.join(root, 'train', '0001'), ['0001_002_05_0303noon_0016_1.jpg'])
    write_images(
        osp.join(root, 'test', '0000'), [
            '0000_000_03_0303morning_0001_0.jpg',
            '0000_001_07_0303noon_0002_0.jpg'
        ])
    lists = dict(
        list_train=['0000/0000_000_01_0303morning_0015_0.jpg 0'],
        list_val=['0001/0001_002_05_0303noon_0016_1.jpg 1'],
        list_query=['0000/0000_000_03_0303morning_0001_0.jpg 0'],
        list_gallery=['0000/0000_001_07_0303noon_0002_0.jpg 0'])
    lists.update(lines or {})
    for name, content in lists.items():
        with open(osp.join(root, name + '.txt'), 'w') as f:
            f.write('\n'.join(content) + '\n')


def test_msmt17_list_files(tmp_path):
    root = str(tmp_path)
    write_msmt17(root)
    train = MSMT17(root)
    assert [(i['gt_label'], i['camera_id']) for i in train] == [(0, 0), (1, 4)]
    assert len(MSMT17(root, use_val_in_train=False)) == 1
    test = MSMT17(root, split='test')
    assert [(i['camera_id'], i['is_query']) for i in test] == [(2, True),
                                                               (6, False)]
    assert osp.isfile(test[0]['img_path'])


def test_msmt17_malformed_line_names_file_and_line(tmp_path):
    root = str(tmp_path)
    write_msmt17(root, dict(list_query=['0000/oops.jpg']))
    with pytest.raises(ValueError, match=r'list_query.txt:1: expected'):
        MSMT17(root, split='query')


def test_missing_root_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_root .* is not a dir'):
        Market1501(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='bounding_box_train'):
        Market1501(str(tmp_path))


def test_malformed_file_name_is_named(tmp_path):
    write_images(
        osp.join(tmp_path, 'bounding_box_train'),
        ['0002_c1s1_000451_03.jpg', 'person7.jpg'])
    with pytest.raises(ValueError, match=r'person7\.jpg.*expected pattern'):
        Market1501(str(tmp_path))


def test_empty_split(tmp_path):
    os.makedirs(osp.join(tmp_path, 'query'))
    with pytest.raises(ValueError, match="'query' split .* has no images"):
        Market1501(str(tmp_path), split='query')


def test_bad_split_name(tmp_path):
    with pytest.raises(ValueError, match='split must be one of'):
        Market1501(str(tmp_path), split='val')


def test_unreadable_image_names_the_file(tmp_path):
    folder = osp.join(tmp_path, 'bounding_box_train')
    os.makedirs(folder)
    with open(osp.join(folder, '0002_c1s1_000451_03.jpg'), 'wb') as f:
        f.write(b'not a jpeg at all')
    ds = Market1501(str(tmp_path), pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(Exception, match='0002_c1s1_000451_03.jpg'):
        ds[0]


def test_other_image_formats_are_skipped_with_a_warning(tmp_path):
    folder = osp.join(tmp_path, 'bounding_box_train')
    write_images(folder, [
        '0002_c1s1_000451_03.jpg', '0003_c1s1_000001_00.png',
        '0004_c2s1_000002_00.jpeg'
    ])
    open(osp.join(folder, 'Thumbs.db'), 'w').close()  # not an image: quiet
    with pytest.warns(UserWarning) as record:
        train = Market1501(str(tmp_path))
    assert len(train) == 1
    message = str(record[0].message)
    assert 'skipping 2 image(s)' in message and '.jpg' in message
    assert '0003_c1s1_000001_00.png' in message
    assert '0004_c2s1_000002_00.jpeg' in message and 'Thumbs' not in message


def test_camera_zero_is_an_error_naming_the_file(tmp_path):
    write_images(
        osp.join(tmp_path, 'bounding_box_train'),
        ['0002_c1s1_000451_03.jpg', '0003_c0s1_000001_00.jpg'])
    with pytest.raises(
            ValueError,
            match=r"0003_c0s1_000001_00\.jpg' has "
            r'camera 0; the cameras of this release are numbered '
            r'from 1'):
        Market1501(str(tmp_path))


def test_msmt17_camera_zero_names_the_list_line(tmp_path):
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'train'))
    with open(osp.join(root, 'list_train.txt'), 'w') as f:
        f.write('0000/0000_000_01_0303morning_0015_0.jpg 0\n'
                '0000/0000_001_00_0303morning_0016_0.jpg 0\n')
    open(osp.join(root, 'list_val.txt'), 'w').close()
    with pytest.raises(ValueError, match=r'list_train.txt:2.* has camera 0'):
        MSMT17(root)


def augmented(dataset, idx):
    return dataset[idx]['inputs'].numpy()


def test_augmentation_is_a_function_of_seed_epoch_and_index(market_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomCrop', crop_size=(32, 16), padding=4),
        dict(type='RandomErasing', erase_prob=0.5, mode='rand'),
        dict(type='PackInputs')
    ]
    train = Market1501(market_root, pipeline=pipeline)
    other = Market1501(market_root, pipeline=pipeline)
    train.set_epoch_seed(3, 1)
    other.set_epoch_seed(3, 1)
    first = [augmented(train, i) for i in range(4)]
    np.random.seed(99)  # whatever the process drew before
    # Another dataset object (a restarted worker), another order.
    assert all((augmented(other, i) == first[i]).all() for i in (3, 1, 0, 2))
    other.set_epoch_seed(3, 2)
    assert any((augmented(other, i) != first[i]).any() for i in range(4))
    # In the main process the global generators are left as they were.
    state = np.random.get_state()[1].copy()
    augmented(train, 0)
    assert (np.random.get_state()[1] == state).all()
    # A deep copy (mmengine's subsets) follows the same epoch.
    import copy
    clone = copy.deepcopy(train)
    train.set_epoch_seed(3, 2)
    assert clone.sample_seed(0) == other.sample_seed(0)


def test_persistent_workers_follow_the_epoch(market_root):
    import torch
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomErasing', erase_prob=1.0, mode='rand'),
        dict(type='PackInputs')
    ]
    train = Market1501(market_root, pipeline=pipeline)
    loader = torch.utils.data.DataLoader(
        train,
        batch_size=None,
        sampler=[0, 1],
        num_workers=2,
        persistent_workers=True,
        collate_fn=lambda x: x['inputs'])

    def epoch(index):
        train.set_epoch_seed(0, index)
        return [x.numpy() for x in loader]

    one, two, again = epoch(1), epoch(2), epoch(1)
    fresh = Market1501(market_root, pipeline=pipeline)
    fresh.set_epoch_seed(0, 2)
    assert all((a == b).all() for a, b in zip(one, again))
    assert not all((a == b).all() for a, b in zip(one, two))
    assert all((augmented(fresh, i) == two[i]).all() for i in range(2))
