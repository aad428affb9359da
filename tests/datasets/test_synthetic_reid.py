import dataclasses
import inspect
import json
import os
import os.path as osp
import runpy
import sys
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mmattn.datasets.synthetic import (DEMO_PRESET, MARKET1501_FILENAME,
                                       SPLIT_DIRS, TINY_PRESET, CameraStyle,
                                       PersonAppearance, make_synthetic_reid,
                                       render_person_image)

CLI = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'misc',
    'make_synthetic_reid.py')


def read_split(root, split):
    """(name, pid, camera) of every file of one split, independently parsed."""
    records = []
    for name in sorted(os.listdir(osp.join(root, SPLIT_DIRS[split]))):
        pid, rest = name.split('_', 1)
        records.append((name, int(pid), int(rest[1])))
    return records


def read_bytes(root):
    return {
        (folder, name): open(osp.join(root, folder, name), 'rb').read()
        for folder in SPLIT_DIRS.values()
        for name in os.listdir(osp.join(root, folder))
    }


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('tiny') / 'market')
    counts = make_synthetic_reid(root, seed=0, **TINY_PRESET)
    return root, counts


def test_layout_and_names(tiny):
    root, counts = tiny
    assert sorted(os.listdir(root)) == sorted(SPLIT_DIRS.values())
    for split in SPLIT_DIRS:
        names = os.listdir(osp.join(root, SPLIT_DIRS[split]))
        assert names, split
        for name in names:
            match = MARKET1501_FILENAME.match(name)
            assert match, name
            assert 1 <= int(match['cam']) <= TINY_PRESET['num_cameras']
            assert 1 <= int(match['seq']) <= 6
    # The published regex is checked against the Market-1501 examples too.
    assert MARKET1501_FILENAME.match('0002_c1s1_000451_03.jpg')
    assert MARKET1501_FILENAME.match('-1_c1s1_000000_00.jpg')
    assert not MARKET1501_FILENAME.match('002_c1s1_000451_03.jpg')
    assert not MARKET1501_FILENAME.match('0002_c1s1_00451_03.jpg')

    train, query, gallery = (read_split(root, s) for s in SPLIT_DIRS)
    assert len(train) == counts['train_images']
    assert len(query) == counts['query_images']
    assert len(gallery) == counts['gallery_images']
    assert sum(pid == 0 for _, pid, _ in gallery) == \
        counts['distractor_images'] == TINY_PRESET['num_distractors']
    assert sum(pid == -1 for _, pid, _ in gallery) == \
        counts['junk_images'] == TINY_PRESET['num_junk']
    # Every identity has cameras_per_id cameras x images_per_id_per_camera.
    per_id = defaultdict(lambda: defaultdict(int))
    for _, pid, cam in train + query + gallery:
        if pid > 0:
            per_id[pid][cam] += 1
    low, high = TINY_PRESET['cameras_per_id']
    for cams in per_id.values():
        assert low <= len(cams) <= high
        assert set(cams.values()) == {TINY_PRESET['images_per_id_per_camera']}


def test_identities_disjoint_and_query_evaluable(tiny):
    root, counts = tiny
    train, query, gallery = (read_split(root, s) for s in SPLIT_DIRS)
    train_ids = {pid for _, pid, _ in train}
    query_ids = {pid for _, pid, _ in query}
    gallery_ids = {pid for _, pid, _ in gallery} - {0, -1}
    assert len(train_ids) == counts['train_ids'] == \
        TINY_PRESET['num_train_ids']
    assert query_ids == gallery_ids
    assert len(query_ids) == counts['test_ids'] == TINY_PRESET['num_test_ids']
    assert not train_ids & query_ids
    assert 0 not in train_ids | query_ids and -1 not in train_ids | query_ids
    # One query per test id and camera, and a gallery image of the same id
    # from another camera (Market evaluation drops same-camera matches).
    assert len({(pid, cam) for _, pid, cam in query}) == len(query)
    gallery_cams = defaultdict(set)
    for _, pid, cam in gallery:
        gallery_cams[pid].add(cam)
    for name, pid, cam in query:
        assert gallery_cams[pid] - {cam}, name


def test_images_decode_with_expected_shape(tiny, tmp_path):
    root, _ = tiny
    for folder in SPLIT_DIRS.values():
        for name in os.listdir(osp.join(root, folder)):
            img = cv2.imread(osp.join(root, folder, name))
            assert img is not None and img.shape == (128, 64, 3), name
            assert img.dtype == np.uint8 and img.std() > 5, name
    large = str(tmp_path / 'large')
    counts = make_synthetic_reid(
        large,
        num_train_ids=2,
        num_test_ids=2,
        num_cameras=2,
        cameras_per_id=2,
        images_per_id_per_camera=2,
        num_distractors=1,
        num_junk=1,
        image_size=(256, 128))
    files = [
        osp.join(large, f, n) for f in SPLIT_DIRS.values()
        for n in os.listdir(osp.join(large, f))
    ]
    assert len(files) == 2 * 2 * 2 + 2 * 2 * 2 + 2 == \
        counts['train_images'] + counts['query_images'] + \
        counts['gallery_images']
    for path in files:
        assert cv2.imread(path).shape == (256, 128, 3), path


def test_deterministic_by_seed(tiny, tmp_path):
    root, counts = tiny
    again = str(tmp_path / 'again')
    assert make_synthetic_reid(again, seed=0, **TINY_PRESET) == counts
    assert read_bytes(again) == read_bytes(root)
    other = str(tmp_path / 'other')
    make_synthetic_reid(other, seed=1, **TINY_PRESET)
    other_bytes = read_bytes(other)
    assert other_bytes.keys() != read_bytes(root).keys()
    # Not only the names: the pixels differ as well.
    assert set(other_bytes.values()).isdisjoint(read_bytes(root).values())


def test_refuses_to_overwrite(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    keep = root / 'notes.txt'
    keep.write_text('mine')
    with pytest.raises(FileExistsError, match=str(root)):
        make_synthetic_reid(str(root), **TINY_PRESET)
    assert sorted(os.listdir(root)) == ['notes.txt']

    small = dict(TINY_PRESET, num_train_ids=2, num_test_ids=2)
    make_synthetic_reid(str(root), overwrite=True, **TINY_PRESET)
    with pytest.raises(FileExistsError, match='overwrite=True'):
        make_synthetic_reid(str(root), **small)
    # overwrite=True replaces the generated folders (no stale images of the
    # larger set remain) and leaves other files alone.
    counts = make_synthetic_reid(str(root), overwrite=True, **small)
    assert keep.read_text() == 'mine'
    train = read_split(str(root), 'train')
    assert len(train) == counts['train_images']
    assert len({pid for _, pid, _ in train}) == 2

    a_file = tmp_path / 'file'
    a_file.write_text('x')
    with pytest.raises(NotADirectoryError, match='not a directory'):
        make_synthetic_reid(str(a_file), **TINY_PRESET)


@pytest.mark.parametrize('kwargs, error, key', [
    (dict(num_train_ids=0), ValueError, 'num_train_ids'),
    (dict(num_test_ids=2.5), TypeError, 'num_test_ids'),
    (dict(num_cameras=10), ValueError, 'num_cameras'),
    (dict(cameras_per_id=1), ValueError, r'cameras_per_id\[0\]'),
    (dict(cameras_per_id=(3, 2)), ValueError, r'cameras_per_id\[1\]'),
    (dict(cameras_per_id=(2, 3, 4)), TypeError, 'cameras_per_id'),
    (dict(images_per_id_per_camera=2, queries_per_id_per_camera=2), ValueError,
     'queries_per_id_per_camera'),
    (dict(num_junk=-1), ValueError, 'num_junk'),
    (dict(image_size=(20, 10)), ValueError, 'image_size'),
    (dict(num_train_ids=5000, num_test_ids=5000), ValueError, '9999'),
])
def test_bad_arguments(tmp_path, kwargs, error, key):
    root = tmp_path / 'never'
    with pytest.raises(error, match=key):
        make_synthetic_reid(str(root), **dict(TINY_PRESET, **kwargs))
    assert not root.exists() or not os.listdir(root)


def body_colour(img):
    """Mean colour of the torso and of the legs in the central third."""
    h, w = img.shape[:2]
    centre = img[:, w // 3:2 * w // 3].astype(np.float64)
    upper = centre[int(0.25 * h):int(0.5 * h)].reshape(-1, 3).mean(0)
    lower = centre[int(0.55 * h):int(0.85 * h)].reshape(-1, 3).mean(0)
    return np.concatenate([upper, lower])


def test_identity_is_learnable_but_not_trivial(tmp_path):
    """A mean-colour nearest neighbour finds identities well above chance
    (identity signal) but not always (camera nuisances)."""
    root = str(tmp_path / 'learn')
    make_synthetic_reid(
        root,
        num_train_ids=1,
        num_test_ids=40,
        num_cameras=4,
        cameras_per_id=(2, 3),
        images_per_id_per_camera=3,
        num_distractors=0,
        num_junk=0,
        seed=3)
    query, gallery = read_split(root, 'query'), read_split(root, 'gallery')

    def features(split, records):
        return np.stack([
            body_colour(cv2.imread(osp.join(root, SPLIT_DIRS[split], n)))
            for n, _, _ in records
        ])

    qf, gf = features('query', query), features('gallery', gallery)
    g_pid = np.array([pid for _, pid, _ in gallery])
    g_cam = np.array([cam for _, _, cam in gallery])
    dist = ((qf[:, None] - gf[None])**2).sum(-1)
    hits = []
    for i, (_, pid, cam) in enumerate(query):
        # Market protocol: the same person in the same camera is ignored.
        dist[i, (g_pid == pid) & (g_cam == cam)] = np.inf
        hits.append(g_pid[dist[i].argmin()] == pid)
    rank1 = float(np.mean(hits))
    chance = 1 / 40
    assert 8 * chance < rank1 < 0.95, rank1


def test_defaults_are_the_demo_preset():
    params = inspect.signature(make_synthetic_reid).parameters
    for key, value in DEMO_PRESET.items():
        assert params[key].default == value, key


def test_render_person_image():
    rng = np.random.default_rng(0)
    camera = CameraStyle.sample(rng, (128, 64))
    person = PersonAppearance.sample(rng)
    img = render_person_image(person, camera, np.random.default_rng(1),
                              (128, 64))
    assert img.shape == (128, 64, 3) and img.dtype == np.uint8
    again = render_person_image(person, camera, np.random.default_rng(1),
                                (128, 64))
    assert np.array_equal(img, again)

    # On a flat, noiseless, unoccluded camera the person is exactly what
    # differs from the background, and stands in the middle of the box.
    plain = dataclasses.replace(
        camera,
        background=np.full_like(camera.background, 128),
        noise_field=np.zeros_like(camera.noise_field),
        side_light=0.0,
        occlusion_prob=0.0,
        blur=0.0)
    for seed in range(5):
        img = render_person_image(person, plain, np.random.default_rng(seed),
                                  (128, 64))
        fg = np.abs(img.astype(int) - img[0, 0].astype(int)).sum(-1) > 30
        rows, cols = np.nonzero(fg)
        assert 0.6 * 128 < rows.max() - rows.min() + 1 <= 128
        assert fg[:, 24:40].mean() > 0.5
        assert fg[:, :3].mean() + fg[:, -3:].mean() < 0.1
    empty = render_person_image(None, plain, np.random.default_rng(0),
                                (128, 64))
    assert np.ptp(empty.reshape(-1, 3), 0).max() <= 2


def test_cli(tmp_path, capsys, monkeypatch):
    root = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [
        CLI, root, '--preset', 'tiny', '--num-train-ids', '3',
        '--num-test-ids', '2', '--seed', '5', '--size', '128', '64'
    ])
    runpy.run_path(CLI, run_name='__main__')
    counts = json.loads(capsys.readouterr().out)
    assert counts['train_ids'] == 3 and counts['test_ids'] == 2
    assert len(os.listdir(osp.join(root, 'bounding_box_train'))) == \
        counts['train_images']
    monkeypatch.setattr(sys, 'argv', [CLI, root, '--preset', 'tiny'])
    with pytest.raises(FileExistsError, match='--overwrite'):
        runpy.run_path(CLI, run_name='__main__')
    monkeypatch.setattr(sys, 'argv',
                        [CLI, root, '--preset', 'tiny', '--overwrite'])
    runpy.run_path(CLI, run_name='__main__')
    assert json.loads(capsys.readouterr().out)['train_ids'] == \
        TINY_PRESET['num_train_ids']
