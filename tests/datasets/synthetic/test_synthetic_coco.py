import filecmp
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO_ROOT
from pycocotools.coco import COCO

from mmattn.datasets import (COCO_DETECTION_CLASSES, make_coco_detection,
                             make_coco_keypoints)
from mmattn.datasets.synthetic import COCO_KEYPOINT_NAMES, COCO_SKELETON

CLI = osp.join(REPO_ROOT, 'tools', 'misc', 'make_synthetic_coco.py')
# The scene's HSV saturation is capped at 50; drawn things are >= 150.
SATURATED = 100
# OpenCV hue (0..179) of each shape's fill and of the figures' limb sides.
SHAPE_HUES = dict(circle=0, square=60, triangle=115)
LEFT_HUES, RIGHT_HUES = (10, 40), (80, 110)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco') / 'det')
    counts = make_coco_detection(root, num_train=12, num_val=4, seed=3)
    return root, counts


@pytest.fixture(scope='module')
def pose_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco') / 'pose')
    counts = make_coco_keypoints(root, num_train=16, num_val=4, seed=0)
    return root, counts


def saturation_and_hue(path):
    hsv = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2HSV)
    return hsv[..., 1].astype(int), hsv[..., 0].astype(int)


def hue_distance(hue, centre):
    d = np.abs(hue - centre) % 180
    return np.minimum(d, 180 - d)


def test_detection_layout_and_pycocotools(det_root):
    root, counts = det_root
    assert sorted(os.listdir(root)) == ['annotations', 'train2017', 'val2017']
    assert counts['train_images'] == 12 and counts['val_images'] == 4
    for split in ('train', 'val'):
        coco = COCO(
            osp.join(root, 'annotations', f'instances_{split}2017.json'))
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == \
            list(COCO_DETECTION_CLASSES)
        assert len(coco.getImgIds()) == counts[f'{split}_images']
        assert len(coco.getAnnIds()) == counts[f'{split}_objects']
        for img in coco.loadImgs(coco.getImgIds()):
            assert osp.isfile(osp.join(root, f'{split}2017', img['file_name']))
            assert 1 <= len(coco.getAnnIds(imgIds=img['id'])) <= 4
        assert set(coco.dataset) >= {
            'info', 'licenses', 'images', 'annotations', 'categories'
        }


def test_detection_boxes_match_drawn_shapes(det_root):
    root, _ = det_root
    coco = COCO(osp.join(root, 'annotations', 'instances_train2017.json'))
    for img in coco.loadImgs(coco.getImgIds()):
        saturation, hue = saturation_and_hue(
            osp.join(root, 'train2017', img['file_name']))
        h, w = saturation.shape
        assert (img['height'], img['width']) == (h, w)
        outside = np.ones((h, w), bool)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img['id'])):
            assert ann['iscrowd'] == 0
            x, y, bw, bh = ann['bbox']
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
            # The box is the tight box of the polygon, the area its area.
            polygon = np.array(ann['segmentation'][0]).reshape(-1, 2)
            np.testing.assert_allclose(
                [*polygon.min(0), *(polygon.max(0) - polygon.min(0))],
                ann['bbox'],
                atol=0.02)
            mask = coco.annToMask(ann).astype(bool)
            assert abs(mask.sum() - ann['area']) < 0.1 * ann['area']
            # The drawn pixels are saturated and have the category's hue.
            drawn = saturation > SATURATED
            assert (drawn & mask).sum() > 0.9 * mask.sum()
            name = coco.loadCats(ann['category_id'])[0]['name']
            assert np.median(
                hue_distance(hue[mask & drawn], SHAPE_HUES[name])) < 12
            # JPEG's chroma subsampling bleeds colour ~3 px past an edge.
            x0, y0 = int(np.floor(x)) - 3, int(np.floor(y)) - 3
            x1, y1 = int(np.ceil(x + bw)) + 3, int(np.ceil(y + bh)) + 3
            outside[max(y0, 0):y1, max(x0, 0):x1] = False
        # Nothing saturated outside the boxes: no unannotated object.
        assert (saturation[outside] > SATURATED).mean() < 0.002


def test_keypoint_annotations(pose_root):
    root, counts = pose_root
    coco = COCO(
        osp.join(root, 'annotations', 'person_keypoints_train2017.json'))
    cat, = coco.loadCats(coco.getCatIds())
    assert (cat['id'], cat['name']) == (1, 'person')
    assert cat['keypoints'] == list(COCO_KEYPOINT_NAMES)
    assert len(cat['keypoints']) == 17
    assert cat['skeleton'] == [list(pair) for pair in COCO_SKELETON]
    assert len(coco.getAnnIds()) == counts['train_persons']
    visibilities = []
    left_hues, right_hues = [], []
    for img in coco.loadImgs(coco.getImgIds()):
        saturation, hue = saturation_and_hue(
            osp.join(root, 'train2017', img['file_name']))
        h, w = saturation.shape
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=img['id'])):
            kpts = np.array(ann['keypoints']).reshape(17, 3)
            v = kpts[:, 2]
            visibilities += v.tolist()
            assert set(v) <= {0, 1, 2}
            assert ann['num_keypoints'] == (v > 0).sum()
            assert ann['iscrowd'] == 0 and ann['category_id'] == 1
            np.testing.assert_array_equal(kpts[v == 0], 0)
            labelled = kpts[v > 0, :2]
            assert (labelled >= 0).all()
            assert (labelled[:, 0] < w).all() and (labelled[:, 1] < h).all()
            x, y, bw, bh = ann['bbox']
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
            assert (labelled >= (x, y)).all()
            assert (labelled <= (x + bw, y + bh)).all()
            # The area is the drawn silhouette: the saturated pixels in the
            # box, less what an occluder hides.
            assert 0.15 * bw * bh < ann['area'] < 0.8 * bw * bh
            drawn = (saturation[int(y):int(y + bh),
                                int(x):int(x + bw)] > SATURATED).sum()
            assert 0.75 * ann['area'] < drawn < 1.25 * ann['area']
            for (px, py), vis in zip(kpts[:, :2].astype(int), v):
                window = saturation[max(py - 1, 0):py + 2,
                                    max(px - 1, 0):px + 2]
                if vis == 2:  # on the drawn figure
                    assert window.max() > SATURATED
                elif vis == 1:  # under the grey occluder
                    assert np.median(window) < SATURATED
            for index, hues in ((13, left_hues), (14, right_hues)):  # knees
                if v[index] == 2:
                    px, py = kpts[index, :2].astype(int)
                    hues.append(hue[py, px])
    # All three visibility flags occur.
    assert {0, 1, 2} <= set(visibilities)
    # The person's left and right limbs have different colours.
    assert LEFT_HUES[0] <= np.median(left_hues) <= LEFT_HUES[1]
    assert RIGHT_HUES[0] <= np.median(right_hues) <= RIGHT_HUES[1]


def test_deterministic_for_a_seed(tmp_path):
    for name, seed in (('a', 5), ('b', 5), ('c', 6)):
        make_coco_keypoints(
            str(tmp_path / name),
            num_train=2,
            num_val=1,
            image_size=(96, 96),
            seed=seed)
    files = [
        'annotations/person_keypoints_train2017.json',
        'annotations/person_keypoints_val2017.json',
        'train2017/000000000001.jpg', 'train2017/000000000002.jpg',
        'val2017/000000000001.jpg'
    ]
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert match == files
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'c', files, shallow=False)
    assert not match and not errors
    # Train and val images are different draws.
    assert not filecmp.cmp(
        tmp_path / 'a' / files[2], tmp_path / 'a' / files[4], shallow=False)


@pytest.mark.parametrize('make', [make_coco_detection, make_coco_keypoints])
@pytest.mark.parametrize('kwargs, message', [
    (dict(num_train=0), 'num_train must be an int >= 1, got 0'),
    (dict(num_val=2.0), 'num_val must be an int >= 1, got 2.0'),
    (dict(image_size=(32, 64)), r'image_size must be \(height, width\)'),
    (dict(image_size=128), r'image_size must be \(height, width\)'),
    (dict(seed=-1), 'seed must be an int >= 0, got -1'),
])
def test_bad_arguments(tmp_path, make, kwargs, message):
    with pytest.raises(ValueError, match=make.__name__ + ': ' + message):
        make(str(tmp_path / 'out'), **kwargs)
    assert not (tmp_path / 'out').exists()


def test_refuses_non_empty_root(tmp_path):
    (tmp_path / 'keep.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='not an empty folder'):
        make_coco_detection(str(tmp_path), num_train=1, num_val=1)
    assert os.listdir(tmp_path) == ['keep.txt']


def test_cli(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / 'det')
    argv = [
        CLI, out, '--task', 'det', '--num-train', '2', '--num-val', '1',
        '--size', '96', '128', '--seed', '1'
    ]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(CLI, run_name='__main__')
    counts = json.loads(capsys.readouterr().out)
    assert (counts['train_images'], counts['val_images']) == (2, 1)
    with open(osp.join(out, 'annotations', 'instances_val2017.json')) as f:
        image, = json.load(f)['images']
    assert (image['height'], image['width']) == (96, 128)
    # A second run refuses the now non-empty folder with a clear message.
    with pytest.raises(SystemExit, match='exists and is not an empty folder'):
        runpy.run_path(CLI, run_name='__main__')
    # --task is required.
    monkeypatch.setattr(sys, 'argv', [CLI, str(tmp_path / 'x')])
    with pytest.raises(SystemExit):
        runpy.run_path(CLI, run_name='__main__')
    assert '--task' in capsys.readouterr().err
