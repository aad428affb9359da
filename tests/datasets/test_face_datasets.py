"""Face readers on generated files in the real formats (incl. malformed
lines) and the synthetic face generator."""
import hashlib
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from mmattn.datasets import FaceImageFolder, FacePairList, LFWPairs
from mmattn.datasets.synthetic import TINY_FACE_PRESET, make_synthetic_faces
from mmattn.registry import DATASETS


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('faces') / 'faces')
    counts = make_synthetic_faces(
        root, **TINY_FACE_PRESET, image_size=24, seed=0)
    return root, counts


def write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def test_image_folder(faces, tmp_path):
    root, counts = faces
    dataset = DATASETS.build(
        dict(type='FaceImageFolder', data_root=osp.join(root, 'train')))
    assert len(dataset) == counts['train_images']
    assert dataset.metainfo['num_ids'] == counts['train_ids']
    assert dataset.metainfo['classes'][0] == 'id_0001'
    labels = [
        dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))
    ]
    assert sorted(set(labels)) == list(range(counts['train_ids']))
    # Relabelled by sorted folder name, whatever the names are.
    for name in ('zed', 'amy'):
        write(str(tmp_path / 'ids' / name / 'a.png'), '')
    write(str(tmp_path / 'ids' / 'amy' / 'notes.txt'), '')
    small = FaceImageFolder(str(tmp_path / 'ids'))
    assert small.metainfo['classes'] == ('amy', 'zed')
    assert [small.get_data_info(i)['gt_label'] for i in range(2)] == [0, 1]
    os.makedirs(tmp_path / 'ids' / 'empty')
    with pytest.raises(ValueError, match='has no images'):
        FaceImageFolder(str(tmp_path / 'ids'))
    assert len(
        FaceImageFolder(str(tmp_path / 'ids'), allow_empty_identity=True)) == 2
    with pytest.raises(FileNotFoundError, match='not a directory'):
        FaceImageFolder(str(tmp_path / 'missing'))
    os.makedirs(tmp_path / 'none')
    with pytest.raises(ValueError, match='no identity folders'):
        FaceImageFolder(str(tmp_path / 'none'))


def test_lfw_pairs(faces):
    root, counts = faces
    dataset = LFWPairs(osp.join(root, 'lfw'))
    meta = dataset.metainfo['verification']
    assert meta['name'] == 'lfw' and meta['num_folds'] == 10
    assert len(meta['pairs']) == counts['lfw_pairs'] == 40
    # Per fold: 2 same-person pairs then 2 different-person pairs.
    assert meta['labels'][:4] == [1, 1, 0, 0]
    assert meta['folds'] == [f for f in range(10) for _ in range(4)]
    with open(osp.join(root, 'lfw', 'pairs.txt')) as f:
        name, idx1, idx2 = f.readlines()[1].split()
    i, j = meta['pairs'][0]
    assert dataset.get_data_info(i)['img_path'] == osp.join(
        root, 'lfw', '', name, f'{name}_{int(idx1):04d}.jpg')
    assert dataset.get_data_info(j)['img_path'].endswith(
        f'{name}_{int(idx2):04d}.jpg')
    # Each distinct image once.
    paths = [dataset.get_data_info(k)['img_path'] for k in range(len(dataset))]
    assert len(paths) == len(set(paths)) <= counts['lfw_images']


@pytest.mark.parametrize('text,match', [
    ('10\n', 'promises 1 folds x 20 pairs'),
    ('2 x\n', 'line 1: expected the header'),
    ('1 1\nA 1 2\nA 1 B\n', 'line 3: image number'),
    ('1 1\nA 1 2\nA 1 B 2 extra\n', 'line 3: expected "name idx1 idx2"'),
    ('1 1\nA 1 2\n', 'promises 1 folds x 2 pairs = 2 pair lines, found 1'),
    ('1 1\nA 1 2\nA 0 B 1\n', 'line 3: image number'),
])
def test_lfw_pairs_malformed(tmp_path, text, match):
    write(str(tmp_path / 'pairs.txt'), text)
    with pytest.raises(ValueError, match=match) as info:
        LFWPairs(str(tmp_path), check_files=False)
    assert 'pairs.txt' in str(info.value)


def test_lfw_pairs_missing_image(tmp_path):
    write(str(tmp_path / 'pairs.txt'), '1 1\nA 1 2\nA 1 B 1\n')
    with pytest.raises(FileNotFoundError, match=r'line 2: image .*A_0001'):
        LFWPairs(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='pairs file'):
        LFWPairs(str(tmp_path), ann_file='other.txt')


def test_pair_list(faces, tmp_path):
    root, counts = faces
    dataset = FacePairList(osp.join(root, 'pose_pairs'), name='cfp_fp')
    meta = dataset.metainfo['verification']
    assert meta['name'] == 'cfp_fp' and meta['num_folds'] == 10
    assert meta['folds'] == [f for f in range(10) for _ in range(4)]
    assert meta['labels'][:4] == [1, 1, 0, 0]
    assert len(dataset) <= counts['pose_images']
    # Contiguous folds of almost equal size, and an explicit fold column.
    for k in range(7):
        write(str(tmp_path / f'{k}.jpg'), '')
    lines = [f'{k}.jpg {k + 1}.jpg {k % 2}' for k in range(6)]
    write(str(tmp_path / 'list.txt'), '# comment\n\n' + '\n'.join(lines))
    uneven = FacePairList(str(tmp_path), 'list.txt', num_folds=4)
    assert uneven.metainfo['verification']['folds'] == [0, 0, 1, 1, 2, 3]
    assert uneven.metainfo['verification']['labels'] == [0, 1] * 3
    write(
        str(tmp_path / 'folds.txt'),
        '\n'.join(f'{line} {k % 3}' for k, line in enumerate(lines)))
    explicit = FacePairList(str(tmp_path), 'folds.txt')
    assert explicit.metainfo['verification']['folds'] == [0, 1, 2] * 2
    assert explicit.metainfo['verification']['num_folds'] == 3


@pytest.mark.parametrize('text,match', [
    ('a b 1\na b\n', 'line 2: expected "path1 path2 label'),
    ('a b 2\n', 'line 1: label must be 1'),
    ('a b 1 0\na b 0\n', 'line 2: the fold column'),
    ('a b 1 x\n', 'line 1: fold must be'),
    ('# nothing\n', 'lists no pairs'),
])
def test_pair_list_malformed(tmp_path, text, match):
    write(str(tmp_path / 'pairs_list.txt'), text)
    with pytest.raises(ValueError, match=match) as info:
        FacePairList(str(tmp_path), check_files=False)
    assert 'pairs_list.txt' in str(info.value)


def tree_digest(root):
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(folder, name)
            digest.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def test_generator_is_deterministic_and_refuses_non_empty_roots(
        faces, tmp_path):
    root, _ = faces
    again = str(tmp_path / 'again')
    make_synthetic_faces(again, **TINY_FACE_PRESET, image_size=24, seed=0)
    assert tree_digest(again) == tree_digest(root)
    other = str(tmp_path / 'other')
    make_synthetic_faces(other, **TINY_FACE_PRESET, image_size=24, seed=1)
    assert tree_digest(other) != tree_digest(root)
    with pytest.raises(FileExistsError, match='not an empty folder'):
        make_synthetic_faces(root, **TINY_FACE_PRESET, image_size=24)
    with pytest.raises(ValueError, match='num_test_ids'):
        make_synthetic_faces(str(tmp_path / 'few'), num_test_ids=5)
    result = subprocess.run([
        sys.executable, 'tools/misc/make_synthetic_faces.py', root, '--preset',
        'tiny'
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True)
    assert result.returncode != 0 and 'not an empty folder' in result.stderr
