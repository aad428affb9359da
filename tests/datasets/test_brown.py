"""The Brown release reader on generated files (incl. malformed ones)."""
import shutil

import cv2
import numpy as np
import pytest

from mmattn.datasets.brown import (BrownDataset, read_info_file,
                                   read_pairs_file, read_patches,
                                   sample_training_pairs)
from mmattn.datasets.patch_transforms import (PackPatchInputs,
                                              RandomPatchFlipRotate)
from mmattn.registry import DATASETS


def write_sequence(folder, point_ids, pairs):
    """A Brown sequence whose patch k is filled with the value k % 251 and
    has a marker in its top-left corner (to catch transposed grids)."""
    folder.mkdir(parents=True)
    n = len(point_ids)
    for b in range(-(-n // 256)):
        bitmap = np.zeros((1024, 1024), np.uint8)
        for cell in range(min(256, n - 256 * b)):
            k = 256 * b + cell
            row, col = divmod(cell, 16)
            bitmap[row * 64:(row + 1) * 64, col * 64:(col + 1) * 64] = k % 251
            bitmap[row * 64:row * 64 + 32, col * 64:col * 64 + 32] = 255
        cv2.imwrite(str(folder / f'patches{b:04d}.bmp'), bitmap)
    (folder / 'info.txt').write_text(''.join(f'{p} 0\n' for p in point_ids))
    (folder / 'm50_100000_100000_0.txt').write_text(''.join(
        f'{a} {point_ids[a]} 0 {b} {point_ids[b]} 0 0\n' for a, b in pairs))
    return folder


@pytest.fixture
def brown_root(tmp_path):
    # 300 patches (two bitmaps, the second partly filled), 100 points x 3.
    point_ids = np.repeat(np.arange(100), 3)
    pairs = [(0, 1), (3, 5), (0, 299), (257, 10), (298, 299)]
    write_sequence(tmp_path / 'liberty', point_ids, pairs)
    return tmp_path


def test_read_patches_row_major_and_resized(brown_root):
    patches = read_patches(str(brown_root / 'liberty'), 300, patch_size=32)
    assert patches.shape == (300, 32, 32) and patches.dtype == np.uint8
    for k in (0, 1, 17, 255, 256, 299):
        assert patches[k, 20, 20] == k % 251  # bottom-right of the patch
        assert patches[k, 0, 0] == 255 and patches[k, 15, 15] == 255
    full = read_patches(str(brown_root / 'liberty'), 300, patch_size=64)
    assert full.shape == (300, 64, 64)
    # 2x area resizing = the mean of each 2x2 block.
    expected = full[7].reshape(32, 2, 32, 2).mean(axis=(1, 3))
    assert np.array_equal(patches[7], np.rint(expected).astype(np.uint8))


def test_test_split_reads_the_m50_pairs(brown_root):
    ds = BrownDataset(
        str(brown_root),
        'liberty',
        split='test',
        pipeline=[dict(type='PackPatchInputs')])
    assert len(ds) == 5
    assert ds.metainfo['num_patches'] == 300
    assert ds.metainfo['num_matching_pairs'] == 3
    info = ds.get_data_info(2)
    assert info['patch_ids'] == (0, 299) and info['point_ids'] == (0, 99)
    assert info['is_match'] is False and info['sequence'] == 'liberty'
    assert info['img'].shape == (2, 32, 32)
    assert info['img'][1, 20, 20] == 299 % 251
    sample = ds[0]
    assert sample['inputs'].shape == (2, 1, 32, 32)
    assert bool(sample['data_samples'].is_match)


def test_training_pairs_match_and_have_distinct_points_per_chunk(brown_root):
    ds = DATASETS.build(
        dict(
            type='BrownDataset',
            data_root=str(brown_root),
            sequences='liberty',
            num_pairs=250,
            chunk_size=40,
            seed=3))
    pairs, is_match = ds.pair_labels()
    assert pairs.shape == (250, 2) and is_match.all()
    assert (pairs[:, 0] != pairs[:, 1]).all()
    points = ds.point_ids[pairs[:, 0]]
    for start in range(0, 250, 40):
        chunk = points[start:start + 40]
        assert len(np.unique(chunk)) == len(chunk)
    again = BrownDataset(
        str(brown_root), 'liberty', num_pairs=250, chunk_size=40, seed=3)
    assert np.array_equal(again.pairs, pairs)
    # Every patch of a point can be drawn.
    many = sample_training_pairs(ds.point_ids, 3000, 50, seed=0)
    assert len(np.unique(many)) == 300


def test_several_sequences_keep_their_points_apart(brown_root):
    write_sequence(brown_root / 'yosemite', np.repeat(np.arange(4), 2),
                   [(0, 1), (2, 4)])
    ds = BrownDataset(str(brown_root), ['liberty', 'yosemite'], split='test')
    assert len(ds) == 7
    info = ds.get_data_info(5)
    assert info['sequence'] == 'yosemite' and info['patch_ids'] == (300, 301)
    assert info['is_match'] is True
    train = BrownDataset(
        str(brown_root), ['liberty', 'yosemite'], num_pairs=30, chunk_size=10)
    assert len(np.unique(train.point_ids)) == 104


@pytest.mark.parametrize('line,message', [
    ('12 0 4\n', r'info.txt:3: expected 2 integers'),
    ('12\n', r'info.txt:3: expected 2 integers'),
    ('a 0\n', r'info.txt:3: expected 2 integers'),
    ('-1 0\n', r'info.txt:3: negative'),
])
def test_malformed_info_lines(tmp_path, line, message):
    path = tmp_path / 'info.txt'
    path.write_text('0 0\n0 0\n' + line + '1 0\n')
    with pytest.raises(ValueError, match=message):
        read_info_file(str(path))


@pytest.mark.parametrize('line,message', [
    ('0 0 0 1 0 0\n', r'm50.txt:2: expected 7 integers \(patchID1 '),
    ('0 0 0 1 0 0 x\n', r'm50.txt:2: expected 7 integers'),
    ('0 0 0 9 1 0 0\n', r'm50.txt:2: patch id 9 out of range'),
    ('0 0 0 2 0 0 0\n', r'm50.txt:2: patch 2 has 3D point 0 here but 1'),
])
def test_malformed_pair_lines(tmp_path, line, message):
    path = tmp_path / 'm50.txt'
    path.write_text('0 0 0 1 0 0 0\n' + line)
    with pytest.raises(ValueError, match=message):
        read_pairs_file(str(path), np.array([0, 0, 1, 1]))


def test_missing_and_bad_files(brown_root, tmp_path):
    folder = brown_root / 'liberty'
    (folder / 'patches0001.bmp').unlink()
    with pytest.raises(FileNotFoundError, match='patches0001.bmp is missing'):
        BrownDataset(str(brown_root), 'liberty', split='test')
    cv2.imwrite(str(folder / 'patches0001.bmp'), np.zeros((100, 64), np.uint8))
    with pytest.raises(ValueError, match='grid of 64x64'):
        BrownDataset(str(brown_root), 'liberty', split='test')
    with pytest.raises(FileNotFoundError, match='sequence folder'):
        BrownDataset(str(brown_root), 'notredame', split='test')
    shutil.copytree(folder, tmp_path / 'copy')
    (tmp_path / 'copy' / 'm50_100000_100000_0.txt').unlink()
    with pytest.raises(FileNotFoundError, match='pairs file'):
        BrownDataset(str(tmp_path), 'copy', split='test')
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        BrownDataset(str(brown_root), 'liberty', split='val')
    with pytest.raises(ValueError, match='chunk_size'):
        BrownDataset(str(tmp_path), 'copy', num_pairs=10, chunk_size=101)


def test_flip_rotate_applies_one_transform_to_the_pair():
    img = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    img[1] = img[0]
    seen = set()
    np.random.seed(0)
    for _ in range(40):
        out = RandomPatchFlipRotate()(dict(img=img.copy()))['img']
        assert np.array_equal(out[0], out[1])
        seen.add(out[0].tobytes())
    # identity, flip, transpose, transpose + flip
    assert len(seen) == 4
    rot = RandomPatchFlipRotate(
        flip_prob=1.0, rotate_prob=1.0)(dict(img=img.copy()))['img']
    assert np.array_equal(rot[0], np.rot90(img[0], k=-1))
    with pytest.raises(ValueError, match=r"results\['img'\]"):
        PackPatchInputs()(dict(img=np.zeros((4, 4))))
