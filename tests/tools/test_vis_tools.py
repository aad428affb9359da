"""The analysis tools and the ONNX export, end to end on a checkpoint
trained for one epoch on the tiny synthetic dataset."""
import json
import os.path as osp
import sys

import cv2
import pytest
import torch
import torch.nn as nn
from conftest import REPO_ROOT
from mmengine.config import Config
from test_train_test import CONFIG, run, tiny_options

from mmattn.apis import init_model
from mmattn.models.attentions import (HOGA_GENOTYPES, HOGAArchitecture,
                                      HOGAttention, bind_shared_architecture)
from mmattn.models.backbones import FBNetV2Supernet
from mmattn.models.search import save_architecture, searched_network
from mmattn.visualization import (MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR,
                                  WINDOW_TABLE_HEADER, RankGridLayout,
                                  collect_window_stats, format_markdown_table,
                                  window_stats_table)

# The demo config's input size, which the pictures are drawn at.
INPUT_H, INPUT_W = Config.fromfile(CONFIG).input_size


@pytest.fixture(scope='module')
def checkpoint(market_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('vis_train'))
    run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--no-validate', '--cfg-options', *tiny_options(market_root, epochs=1)
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
    args = [
        CONFIG, checkpoint, '--out-dir',
        str(tmp_path), '--num-queries', '3', '--topk', '4', '--cell-size',
        '64', '32', '--cfg-options', *tiny_options(market_root)
    ]
    tool('vis_rank', *args)
    grid = read_rgb(tmp_path / 'rank_list.png')
    layout = RankGridLayout(3, 4, cell=(64, 32), label_height=14)
    assert grid.shape[:2] == layout.shape
    for row in range(3):
        assert tuple(grid[layout.frame_origin(row, 0)]) == QUERY_COLOR
        for col in range(1, 5):
            # Every shown gallery image is framed green or red.
            assert tuple(grid[layout.frame_origin(row,
                                                  col)]) in (MATCH_COLOR,
                                                             MISMATCH_COLOR)
    # Logged to the config's visualiser (LocalVisBackend) as well.
    assert osp.isfile(tmp_path / 'vis_data/vis_image/rank_list_0.png')
    refused = tool('vis_rank', *args, check=False)
    assert refused.returncode != 0 and '--overwrite' in refused.stderr


def test_vis_cam_side_by_side(checkpoint, market_root, tmp_path):
    tool('vis_cam', CONFIG, checkpoint, '--out-dir', str(tmp_path), '--layer',
         'backbone.backbone.layer5', '--checkpoint2', checkpoint, '--layer2',
         'backbone', '--num-images', '2', '--cfg-options',
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
    arch.write_text(
        json.dumps(
            dict(blocks=[
                dict(out_channels=16),
                dict(out_channels=24, expansion=3)
            ])))
    out = tmp_path / 'out'
    # The demo model with Multi-Window DA in place of DCS (initial windows).
    tool('vis_arch', CONFIG, '--out-dir', str(out), '--genotype', 'autola',
         '--arch-json', str(arch), '--cfg-options',
         'model.backbone.attentions.0.cfg.type=MultiWindowAttention',
         *tiny_options(market_root))
    names = [
        'da_windows', 'da_window_lengths', 'da_window_stats',
        'hoga_genotype_autola', 'fbnetv2_channels_fbnet'
    ] + [f'da_feature_map_{i}' for i in range(4)]
    for name in names:
        assert read_rgb(out / f'{name}.png').std() > 0, name
    table = (out / 'da_window_stats.md').read_text().splitlines()[2:]
    # One row per DA module, C and (before -> after) windows of the
    # initial tiling by 8-channel windows (all merged into one).
    assert [row.split(' | ')[1:4]
            for row in table] == [['24', '24.0', '3 -> 1'],
                                  ['32', '32.0', '4 -> 1'],
                                  ['96', '96.0', '12 -> 1'],
                                  ['320', '320.0', '40 -> 1']]
    plain = tool(
        'vis_arch', CONFIG, '--out-dir', str(tmp_path / 'none'), check=False)
    assert plain.returncode != 0 and 'nothing to draw' in plain.stderr


def test_vis_arch_from_exported_architecture(tmp_path):
    """``--arch-json`` on the JSON that ExportArchitectureHook and
    tools/export_arch.py write: each section goes to its figures."""
    # The DA-FB multi-window search model, windows moved as by a search:
    # layer2's first two windows shrink to 5 channels: [0, 5), [8, 13)
    # and [16, 24), merged over the channel circle into [16, 29) and
    # [8, 13).
    search = init_model(
        osp.join(
            REPO_ROOT,
            'configs/search/da-fb-multi_mobilenet-v2_search_market1501.py'))
    da = searched_network(search).backbone.backbone.layer2.attention
    with torch.no_grad():
        da.l_int.copy_(torch.tensor([5, 5, 8]))
        da.l_dec.zero_()
        da.s_dec.zero_()
    da_json = str(tmp_path / 'architecture.json')
    save_architecture(search, da_json)
    out = tmp_path / 'da'
    tool('vis_arch', '--out-dir', str(out), '--arch-json', da_json)
    for name in ('da_windows', 'da_window_lengths', 'da_window_stats'):
        assert read_rgb(out / f'{name}.png').std() > 0, name
    # The table of the JSON is the table of the model.
    expected = format_markdown_table(
        WINDOW_TABLE_HEADER,
        window_stats_table(collect_window_stats(searched_network(search))))
    table = (out / 'da_window_stats.md').read_text()
    assert table == expected
    assert '| backbone.backbone.layer2.attention | 24 | 18.0 | 3 -> 2 | 18 ' \
        '| 0.75 |' in table

    # HOGA and FBNetV2 sections, from a second exported model; with two
    # files every name gets the file stem.
    hoga = nn.ModuleList([HOGAttention(8, search=True) for _ in range(2)])
    shared = bind_shared_architecture(hoga, HOGAArchitecture(4))
    with torch.no_grad():
        shared.alpha.zero_()
        shared.alpha[:, shared.primitives.index('se')] = 1.0
    supernet = FBNetV2Supernet(
        arch=dict(
            stem_channels=8,
            head_channels=16,
            stages=[[[1, 8, 1, 1]], [[(1.0, 2.0, 1.0), (8, 16, 8), 2, 2]]]),
        out_indices=(2, ),
        flops_input_size=(32, 16))
    other = str(tmp_path / 'other.json')
    arch = save_architecture(
        nn.ModuleDict(dict(hoga=hoga, net=supernet)), other)
    assert arch['hoga']['genotype'] == HOGA_GENOTYPES['hog_se'].to_dict()
    out = tmp_path / 'both'
    result = tool('vis_arch', '--out-dir', str(out), '--arch-json', da_json,
                  other)
    names = [
        'da_windows_architecture', 'da_window_lengths_architecture',
        'da_window_stats_architecture', 'hoga_genotype_other',
        'fbnetv2_channels_other'
    ]
    for name in names:
        assert read_rgb(out / f'{name}.png').std() > 0, name
    assert (out / 'da_window_stats_architecture.md').read_text() == expected
    assert sorted(p.name for p in out.glob('*.png')) == sorted(f'{n}.png'
                                                               for n in names)
    assert 'hoga_genotype_other.png' in result.stdout
    # Existing files are kept.
    again = tool(
        'vis_arch',
        '--out-dir',
        str(out),
        '--arch-json',
        da_json,
        other,
        check=False)
    assert again.returncode != 0 and 'overwrite' in again.stderr
    # A wrong version is refused with the file name.
    arch['version'] = 99
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(arch))
    refused = tool(
        'vis_arch',
        '--out-dir',
        str(tmp_path / 'bad'),
        '--arch-json',
        str(bad),
        check=False)
    assert refused.returncode != 0
    assert f'{bad}: architecture version 99' in refused.stderr


def test_browse_dataset(market_root, tmp_path):
    tool('browse_dataset', CONFIG, '--out-dir', str(tmp_path), '--num-images',
         '2', '--repeats', '2', '--cfg-options', *tiny_options(market_root))
    image = read_rgb(tmp_path / 'pipeline.png')
    # Title band + two rows of (original | 2 draws) at the input size.
    assert image.shape[:2] == (16 + 2 * INPUT_H + 4, 3 * INPUT_W + 8 + 4)


def test_export_onnx(checkpoint, market_root, tmp_path):
    args = [
        CONFIG, checkpoint, '--out-dir',
        str(tmp_path), '--verify', '--cfg-options', *tiny_options(market_root)
    ]
    result = tool('export_onnx', *args)
    assert 'max |onnxruntime - pytorch|' in result.stdout
    assert osp.isfile(tmp_path / 'demo_dcs_mobilenetv2_synthetic.onnx')
    refused = tool('export_onnx', *args, check=False)
    assert refused.returncode != 0 and 'exists' in refused.stderr
