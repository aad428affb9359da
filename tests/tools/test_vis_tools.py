"""The analysis tools and the ONNX export, end to end on a checkpoint
trained for one epoch on the tiny synthetic dataset."""
import json
import os.path as osp
import sys

import cv2
import pytest
from mmengine.config import Config

from mmattn.visualization import (MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR,
                                  RankGridLayout)
from test_train_test import CONFIG, run, tiny_options

# The demo config's input size, which the pictures are drawn at.
INPUT_H, INPUT_W = Config.fromfile(CONFIG).input_size


@pytest.fixture(scope='module')
def checkpoint(market_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('vis_train'))
    run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--no-validate', '--cfg-options',
        *tiny_options(market_root, epochs=1)
    ])
    return osp.join(work_dir, 'epoch_1.pth')


def tool(name, *args, check=True):
    folder = 'deployment' if name == 'export_onnx' else 'analysis_tools'
    return run([sys.executable, f'tools/{folder}/{name}.py', *args],
               check=check)


def read_rgb(path):
    image = cv2.imread(str(path))
    assert image is not None, path
    return image[..., ::-1]


def test_vis_rank(checkpoint, market_root, tmp_path):
    args = [CONFIG, checkpoint, '--out-dir', str(tmp_path), '--num-queries',
            '3', '--topk', '4', '--cell-size', '64', '32', '--cfg-options',
            *tiny_options(market_root)]
    tool('vis_rank', *args)
    grid = read_rgb(tmp_path / 'rank_list.png')
    layout = RankGridLayout(3, 4, cell=(64, 32), label_height=14)
    assert grid.shape[:2] == layout.shape
    for row in range(3):
        assert tuple(grid[layout.frame_origin(row, 0)]) == QUERY_COLOR
        for col in range(1, 5):
            # Every shown gallery image is framed green or red.
            assert tuple(grid[layout.frame_origin(row, col)]) in (
                MATCH_COLOR, MISMATCH_COLOR)
    # Logged to the config's visualiser (LocalVisBackend) as well.
    assert osp.isfile(tmp_path / 'vis_data/vis_image/rank_list_0.png')
    refused = tool('vis_rank', *args, check=False)
    assert refused.returncode != 0 and '--overwrite' in refused.stderr


def test_vis_cam_side_by_side(checkpoint, market_root, tmp_path):
    tool('vis_cam', CONFIG, checkpoint, '--out-dir', str(tmp_path),
         '--layer', 'backbone.backbone.layer5', '--checkpoint2', checkpoint,
         '--layer2', 'backbone', '--num-images', '2', '--cfg-options',
         *tiny_options(market_root))
    image = read_rgb(tmp_path / 'grad_cam.png')
    # Caption band, two H x W rows (the demo's input size); image | model 1
    # | model 2 columns.
    h, w = INPUT_H, INPUT_W
    assert image.shape[:2] == (14 + 2 * h + 4, 3 * w + 2 * 4)
    original = image[14:14 + h, :w].astype(int)
    for col in (1, 2):
        overlay = image[14:14 + h, col * (w + 4):col * (w + 4) + w].astype(int)
        assert abs(overlay - original).mean() > 5


def test_vis_features(checkpoint, market_root, tmp_path):
    tool('vis_features', CONFIG, checkpoint, '--out-dir', str(tmp_path),
         '--num-ids', '4', '--min-images', '3', '--cfg-options',
         *tiny_options(market_root))
    image = read_rgb(tmp_path / 'features_lda_tsne.png')
    assert image.shape[:2] == (320, 320)
    with open(tmp_path / 'features_lda_tsne.json') as f:
        result = json.load(f)
    assert len(result['identities']) == 4
    assert result['models']['model 1']['lda_dims'] == 3
    assert result['models']['model 1']['fisher_score'] > 0


def test_vis_arch(market_root, tmp_path):
    arch = tmp_path / 'fbnet.json'
    arch.write_text(json.dumps(dict(blocks=[
        dict(out_channels=16), dict(out_channels=24, expansion=3)])))
    out = tmp_path / 'out'
    # The demo model with Multi-Window DA in place of DCS (initial windows).
    tool('vis_arch', CONFIG, '--out-dir', str(out), '--genotype', 'autola',
         '--arch-json', str(arch), '--cfg-options',
         'model.backbone.attentions.0.cfg.type=MultiWindowAttention',
         *tiny_options(market_root))
    names = ['da_windows', 'da_window_lengths', 'da_window_stats',
             'hoga_genotype_autola', 'fbnetv2_channels_fbnet'] + [
                 f'da_feature_map_{i}' for i in range(4)]
    for name in names:
        assert read_rgb(out / f'{name}.png').std() > 0, name
    table = (out / 'da_window_stats.md').read_text().splitlines()[2:]
    # One row per DA module, C and (before -> after) windows of the
    # initial tiling by 8-channel windows (all merged into one).
    assert [row.split(' | ')[1:4] for row in table] == [
        ['24', '24.0', '3 -> 1'], ['32', '32.0', '4 -> 1'],
        ['96', '96.0', '12 -> 1'], ['320', '320.0', '40 -> 1']]
    plain = tool('vis_arch', CONFIG, '--out-dir', str(tmp_path / 'none'),
                 check=False)
    assert plain.returncode != 0 and 'nothing to draw' in plain.stderr


def test_browse_dataset(market_root, tmp_path):
    tool('browse_dataset', CONFIG, '--out-dir', str(tmp_path),
         '--num-images', '2', '--repeats', '2', '--cfg-options',
         *tiny_options(market_root))
    image = read_rgb(tmp_path / 'pipeline.png')
    # Title band + two rows of (original | 2 draws) at the input size.
    assert image.shape[:2] == (16 + 2 * INPUT_H + 4, 3 * INPUT_W + 8 + 4)


def test_export_onnx(checkpoint, market_root, tmp_path):
    args = [CONFIG, checkpoint, '--out-dir', str(tmp_path), '--verify',
            '--cfg-options', *tiny_options(market_root)]
    result = tool('export_onnx', *args)
    assert 'max |onnxruntime - pytorch|' in result.stdout
    assert osp.isfile(tmp_path / 'demo_dcs_mobilenetv2_synthetic.onnx')
    refused = tool('export_onnx', *args, check=False)
    assert refused.returncode != 0 and 'exists' in refused.stderr
