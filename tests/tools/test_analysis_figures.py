"""The figure / analysis tools of issue 14 (seed 002 fig. 5 and table 6,
seed 003 fig. 4, seed 004 section 4.8) on the synthetic data with randomly
initialised models (saved and reloaded as checkpoints where the tool takes
one). The tools run in-process through their ``main(argv)``."""
import importlib.util
import json
import os.path as osp
import sys

import cv2
import pytest
import torch
from conftest import REPO_ROOT

from mmattn.analysis.selectivity import class_means, selectivity_index
from mmattn.apis import build_dataset, init_model, load_config, preprocess

sys.path.insert(0, osp.dirname(__file__))
from test_search_pipelines import make_tiny_image_folder  # noqa: E402

REID = osp.join(REPO_ROOT, 'configs/reid')


def tool(name):
    path = osp.join(REPO_ROOT, 'tools/analysis_tools', name + '.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reid_config(tmp, base, data_root, extra='', size=(32, 96)):
    """``base`` on the tiny synthetic Market-1501 set, from scratch."""
    text = f'''_base_ = [{base!r}]
data_root = {data_root!r}
pipeline = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale={size!r}),
            dict(type='PackInputs', algorithm_keys=['camera_id', 'is_query'])]
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
model = dict(backbone=dict(backbone=dict(init_cfg=None)),
             head=dict(num_classes=8))
{extra}
'''
    path = osp.join(tmp, osp.basename(base))
    with open(path, 'w') as f:
        f.write(text)
    return path


def save_random_checkpoint(config, path):
    torch.manual_seed(0)
    model = init_model(config)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def png_shape(path):
    image = cv2.imread(str(path))
    assert image is not None, path
    return image.shape


def test_vis_csa_maps(market_root, tmp_path):
    cfg = reid_config(
        str(tmp_path),
        osp.join(REID, 'csa-pcb_resnet50_market1501.py'),
        market_root,
        extra='''model.update(auxiliary_losses=[dict(
    type='AttentionDeepSupervision',
    head=dict(type='CSADeepSupervisionHead', num_classes=8))])''')
    ckpt = save_random_checkpoint(cfg, str(tmp_path / 'csa.pth'))
    out = str(tmp_path / 'vis')
    args = [
        cfg, ckpt, '--out-dir', out, '--num-images', '2', '--no-visualizer',
        '--pixels', '0.1', '0.5', '0.9', '0.5'
    ]
    report = tool('vis_csa_maps').main(args)
    assert png_shape(osp.join(out, 'csa_maps.png'))[0] > 100
    with open(osp.join(out, 'csa_maps.json')) as f:
        assert json.load(f) == json.loads(json.dumps(report))
    assert len(report['images']) == 2
    blocks = report['images'][0]['blocks']
    assert list(blocks) == [
        f'backbone.backbone.layer{i}.attention' for i in (1, 2, 3)
    ]
    layer1 = blocks['backbone.backbone.layer1.attention']
    # 96x32 input: a 24x8 map after layer1; pixels (0.1, 0.5), (0.9, 0.5).
    assert layer1['map_size'] == [24, 8]
    assert layer1['positions'] == [2 * 8 + 4, 21 * 8 + 4]
    for block in blocks.values():
        assert block['base_sum_error'] < 1e-5
        assert block['attention_sums'] == pytest.approx([1, 1], abs=1e-5)
        assert len(block['shown_bases']) == 2
        assert all(-1 <= s <= 1 + 1e-6 for s in block['closest_similarity'])
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool('vis_csa_maps').main(args)
    with pytest.raises(SystemExit, match='--group 5'):
        tool('vis_csa_maps').main(args + ['--overwrite', '--group', '5'])


def test_vis_stra_modes(market_root, tmp_path):
    tmp = str(tmp_path)
    cfg = reid_config(
        tmp,
        osp.join(REID, 'stra-resnet50_b32_market1501.py'),
        market_root,
        size=(32, 64))
    out = osp.join(tmp, 'vis')
    report = tool('vis_stra_modes').main(
        [cfg, '--out-dir', out, '--no-visualizer'])
    assert osp.isfile(osp.join(out, 'stra_modes.png'))
    blocks = report['images'][0]['blocks']
    assert list(blocks) == [
        f'backbone.backbone.layer4.{i}.conv2' for i in range(3)
    ]
    for block in blocks.values():
        assert block['groups'] == 8 and block['map_size'] == [4, 2]
        assert block['masks']['sums'] == pytest.approx([1] * 8, abs=1e-5)
        assert all(0 <= r < 4 and 0 <= c < 2
                   for r, c in block['masks']['peaks'])
        assert -1 <= block['local']['mean_pairwise_similarity'] <= 1 + 1e-6
    # The local-only ablation (seed 003 table 3a) has no mode masks.
    local = reid_config(
        tmp,
        osp.join(
            REPO_ROOT, 'configs/ablations/'
            'seed003-table3a_stra-local-only_resnet50_market1501.py'),
        market_root,
        size=(32, 64))
    report = tool('vis_stra_modes').main(
        [local, '--out-dir',
         osp.join(tmp, 'local'), '--no-visualizer'])
    for block in report['images'][0]['blocks'].values():
        assert block['masks'] is None and block['local'] is not None


def cifar_config(tmp, name, data):
    base = osp.join(REPO_ROOT, 'configs/classification', name)
    path = osp.join(tmp, name)
    with open(path, 'w') as f:
        f.write(f'''_base_ = [{base!r}]
folder = dict(_delete_=True, type='CustomDataset', data_root={data!r},
              data_prefix='test', pipeline=[dict(type='LoadImageFromFile'),
                                            dict(type='PackInputs')])
test_dataloader = dict(batch_size=5, num_workers=0, dataset=folder)
val_dataloader = test_dataloader
model = dict(head=dict(num_classes=3))
''')
    return path


def test_class_selectivity_with_and_without_attention(tmp_path):
    tmp = str(tmp_path)
    data = osp.join(tmp, 'data')
    make_tiny_image_folder(data, classes=3, train=1, test=4)
    plain = cifar_config(tmp, 'resnet20_cifar10.py', data)
    se = cifar_config(tmp, 'se_resnet20_cifar10.py', data)
    ckpt = save_random_checkpoint(plain, osp.join(tmp, 'plain.pth'))
    out = osp.join(tmp, 'sel')
    report = tool('class_selectivity').main([
        plain, ckpt, '--config2', se, '--labels', 'ResNet-20',
        'ResNet-20 + SE', '--out-dir', out, '--no-visualizer', '--batch-size',
        '5'
    ])
    assert osp.isfile(osp.join(out, 'class_selectivity.png'))
    assert report['images'] == 12 and report['num_classes'] == 3
    first, second = report['models']
    keys = [f'layer{s}.{b}' for s in (1, 2, 3) for b in range(3)]
    assert list(first['layers']) == keys == list(second['layers'])
    # Hand computation for one block of the plain model.
    cfg = load_config(plain)
    model = init_model(cfg, ckpt)
    dataset = build_dataset(cfg, 'test')
    out_maps = []
    handle = model.get_submodule('backbone.backbone.layer2.1') \
        .register_forward_hook(lambda m, a, o: out_maps.append(o))
    with torch.no_grad():
        model.extract_feat(preprocess(model, [dataset[i] for i in range(12)]))
    handle.remove()
    acts = out_maps[0].mean((2, 3)).double()
    labels = torch.tensor(
        [dataset.get_data_info(i)['gt_label'] for i in range(12)])
    means = torch.stack([acts[labels == c].mean(0) for c in range(3)])
    top = means.max(0).values
    rest = (means.sum(0) - top) / 2
    live = (top + rest) > 1e-12
    expected = ((top - rest) / (top + rest))[live].mean()
    assert first['layers']['layer2.1']['mean'] == pytest.approx(
        float(expected), rel=1e-4)
    sel = selectivity_index(class_means(acts, labels))
    assert first['layers']['layer2.1']['dead'] == int(sel['dead'].sum())
    for result in (first, second):
        for layer in result['layers'].values():
            assert 0 <= layer['mean'] <= 1


def test_benchmark_pcb_attention_tiny(tmp_path):
    out = str(tmp_path / 'cost.json')
    result = tool('benchmark_pcb_attention').main(['--tiny', '--out', out])
    rows = result['rows']
    assert [(r['model'], r['groups']) for r in rows] == [('PCB', None),
                                                         ('PCB + SA', 1),
                                                         ('PCB + CSA', 1),
                                                         ('PCB + CSA', 2),
                                                         ('PCB + CSA', 4),
                                                         ('PCB + CSA', 8)]
    assert rows[0]['memory_ratio'] == pytest.approx(100)
    assert rows[0]['speed_ratio'] == pytest.approx(100)
    for row in rows:
        assert row['memory_mb'] > 0 and row['images_per_s'] > 0
        assert row['memory_source'] == 'cpu_profiler'
        # ResNet-50 PCB's weights are about 100 MB in fp32.
        assert 80 < row['weights_mb'] < 200
    with open(out) as f:
        assert json.load(f)['rows'][1]['model'] == 'PCB + SA'
    with open(osp.splitext(out)[0] + '.md') as f:
        table = f.read().splitlines()
    assert table[0] == '| ' + ' | '.join(result['header']) + ' |'
    assert len(table) == 2 + len(rows)
    assert all(line.count('|') == len(result['header']) + 1 for line in table)
    assert table[3].startswith('| PCB + SA | 1 |')
    with pytest.raises(SystemExit):
        tool('benchmark_pcb_attention').main(['--tiny', '--out', out])
