import filecmp
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT

from mmattn.datasets import BrownDataset
from mmattn.datasets.synthetic import make_synthetic_patches

SMALL = dict(
    brown_sequences=('liberty', 'yosemite'),
    num_points=12,
    patches_per_point=(2, 3),
    num_test_pairs=10,
    num_hpatches_sequences=2,
    hpatches_patches_per_sequence=3)


def test_writes_readable_release_layouts(tmp_path):
    summary = make_synthetic_patches(str(tmp_path / 'a'), **SMALL, seed=1)
    folder = tmp_path / 'a' / 'brown' / 'liberty'
    assert sorted(os.listdir(folder)) == [
        'info.txt', 'm50_10_10_0.txt', 'patches0000.bmp'
    ]
    ds = BrownDataset(
        str(tmp_path / 'a' / 'brown'), ['liberty', 'yosemite'],
        split='test',
        pairs_file='m50_10_10_0.txt')
    pairs, is_match = ds.pair_labels()
    assert len(pairs) == 20 and is_match.sum() == 10
    assert ds.metainfo['num_patches'] == sum(
        s['num_patches'] for s in summary['brown'].values())
    # Matching patches are more alike than non-matching ones.
    patches = ds.patches.reshape(len(ds.patches), -1).astype(float)
    diff = np.abs(patches[pairs[:, 0]] - patches[pairs[:, 1]]).mean(1)
    assert diff[is_match].mean() < diff[~is_match].mean()
    assert summary['hpatches'] == ['i_synthetic00', 'v_synthetic01']
    assert len(
        os.listdir(tmp_path / 'a' / 'hpatches-release' /
                   'v_synthetic01')) == 16


def test_deterministic_and_refuses_non_empty_root(tmp_path):
    make_synthetic_patches(str(tmp_path / 'a'), **SMALL, seed=1)
    make_synthetic_patches(str(tmp_path / 'b'), **SMALL, seed=1)
    cmp = filecmp.dircmp(tmp_path / 'a' / 'brown' / 'liberty',
                         tmp_path / 'b' / 'brown' / 'liberty')
    assert not cmp.diff_files and not cmp.left_only
    for name in ('patches0000.bmp', 'info.txt', 'm50_10_10_0.txt'):
        assert filecmp.cmp(
            tmp_path / 'a' / 'brown' / 'liberty' / name,
            tmp_path / 'b' / 'brown' / 'liberty' / name,
            shallow=False)
    assert filecmp.cmp(
        tmp_path / 'a' / 'hpatches-release' / 'v_synthetic01' / 't3.png',
        tmp_path / 'b' / 'hpatches-release' / 'v_synthetic01' / 't3.png',
        shallow=False)
    with pytest.raises(FileExistsError, match='not an empty folder'):
        make_synthetic_patches(str(tmp_path / 'a'), **SMALL)
    with pytest.raises(ValueError, match='patches_per_point'):
        make_synthetic_patches(
            str(tmp_path / 'c'), **dict(SMALL, patches_per_point=1))


def test_cli(tmp_path):
    out = tmp_path / 'cli'
    result = subprocess.run([
        sys.executable, 'tools/misc/make_synthetic_patches.py',
        str(out), '--preset', 'tiny', '--brown-sequences', 'liberty',
        '--num-points', '5', '--num-hpatches-sequences', '0'
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"m50_100_100_0.txt"' in result.stdout
    assert os.listdir(out) == ['brown']
