"""tools/analysis_tools/benchmark_train.py end to end, tiny, on the CPU."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

SCRIPT = 'tools/analysis_tools/benchmark_train.py'
CONFIG = osp.join(REPO_ROOT, 'configs/reid/demo_dcs_mobilenetv2_synthetic.py')
TINY = [
    '--batch-size', '8', '--input-size', '32', '16', '--iters', '1',
    '--warmup', '1', '--device', 'cpu'
]


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, SCRIPT, *args],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          env=env)


def check_row(row, mode, name):
    assert row['mode'] == mode and row['name'] == name
    assert row['images_per_s'] > 0 and row['step_ms'] > 0
    assert row['cpu_ms_per_step'] > 0
    assert row['peak_memory_mb'] >= row['rss_at_start_mb'] > 0
    assert row['batch_size'] == 8 and row['input_size'] == [32, 16]


def test_runner_vs_bare_loop_writes_json_and_keeps_existing_out(tmp_path):
    out = tmp_path / 'result.json'
    result = run([
        CONFIG, *TINY, '--channels-last', '--amp', 'bf16', '--workers', '0',
        '--out',
        str(out), '--cfg-options', 'model.head.num_classes=8'
    ])
    output = result.stdout[-2000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert 'the Runner reaches' in result.stdout
    data = json.loads(out.read_text())
    assert data['mode'] == 'runner_vs_bare' and data['device'] == 'cpu'
    assert 'VmHWM' in data['memory_measure']
    bare, runner = data['rows']
    check_row(bare, 'bare', 'bare loop')
    check_row(runner, 'runner', 'mmengine Runner')
    assert bare['optimizer'] == 'Adam'  # the config's optimiser
    assert runner['optim_wrapper'] == 'BF16OptimWrapper'
    assert runner['channels_last_weights'] is True
    assert data['summary']['runner_vs_bare'] == pytest.approx(
        runner['images_per_s'] / bare['images_per_s'])

    before = out.read_text()
    again = run([CONFIG, *TINY, '--out', str(out)])
    assert again.returncode != 0
    assert f'--out {out} already exists' in again.stderr
    assert out.read_text() == before


def test_attention_overhead_mode(tmp_path):
    out = tmp_path / 'attention.json'
    config = osp.join(REPO_ROOT, 'configs/attentions/dcs_mobilenet-v2.py')
    result = run([config, *TINY, '--compare-attention', '--out', str(out)])
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    base, dcs = data['rows']
    assert base['name'] == 'bare backbone' and base['strip_attention']
    assert dcs['name'] == 'dcs_mobilenet-v2'
    check_row(base, 'bare', 'bare backbone')
    assert data['summary']['overhead']['dcs_mobilenet-v2'] == pytest.approx(
        dcs['step_ms'] / base['step_ms'] - 1)

    plain = osp.join(REPO_ROOT, 'configs/reid/mobilenetv2_b64_market1501.py')
    bad = run([plain, *TINY, '--compare-attention'])
    assert bad.returncode != 0
    assert "is 'MobileNetV2ReID', not AttentionBackbone" in bad.stderr


def load_script():
    spec = importlib.util.spec_from_file_location('benchmark_train',
                                                  osp.join(REPO_ROOT, SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ablation_adds_one_lever_per_row_and_reports_gains():
    bench = load_script()
    args = bench.parse_args([CONFIG, '--device', 'cpu', '--ablate'])
    specs, mode = bench.plan(args)
    assert mode == 'ablation'
    assert [s['name'] for s in specs] == [
        'fp32', '+channels_last', '+amp bf16', '+compile', '+4 workers',
        '+pin_memory', '+persistent_workers'
    ]
    assert all(s['mode'] == 'runner' for s in specs)
    last = specs[-1]
    assert last['channels_last'] and last['compile'] and last['amp'] == \
        'bf16' and last['workers'] == 4 and last['persistent_workers']
    assert specs[0]['workers'] == 0 and not specs[0]['pin_memory']
    rows = [
        dict(s, images_per_s=10. * (i + 1), step_ms=1.)
        for i, s in enumerate(specs[:3])
    ]
    summary = bench.summarise(rows, mode)
    assert rows[1]['gain_vs_previous'] == pytest.approx(1.0)
    assert rows[2]['gain_vs_previous'] == pytest.approx(0.5)
    assert rows[2]['gain_vs_baseline'] == pytest.approx(2.0)
    assert summary['final_images_per_s'] == 30.

    args = bench.parse_args([
        CONFIG, '--device', 'cpu', '--ablate', '--ablate-steps', 'workers',
        '--workers', '2'
    ])
    assert [s['name'] for s in bench.plan(args)[0]] == ['fp32', '+2 workers']


def test_bad_arguments_name_the_option(tmp_path, capsys):
    bench = load_script()
    with pytest.raises(SystemExit):
        bench.parse_args([CONFIG, '--device', 'cpu', '--amp', 'fp16'])
    assert '--amp fp16 needs CUDA' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.parse_args([CONFIG, '--workers', '-1'])
    assert 'argument --workers' in capsys.readouterr().err
    existing = tmp_path / 'taken.json'
    existing.write_text('{}')
    with pytest.raises(SystemExit):
        bench.parse_args([CONFIG, '--out', str(existing)])
    assert f'--out {existing} already exists' in capsys.readouterr().err


def test_all_seeds_plan_strips_each_method_and_uses_paper_sizes():
    bench = load_script()
    args = bench.parse_args(['--all-seeds', '--device', 'cpu'])
    specs, mode = bench.plan(args)
    assert mode == 'all_seeds'
    rows = {}
    for spec in specs:
        rows.setdefault(spec['row'], {})[spec['role']] = spec
    assert len(rows) == len(bench.SEED_CONFIGS)
    for index, (seed, method, config, size,
                options) in enumerate(bench.SEED_CONFIGS):
        parts = rows[index]
        assert parts['method']['input_size'] == list(size)
        assert parts['method']['config'].endswith(config)
        assert parts['baseline']['strip_method']
        assert ('loop' in parts) == bool(options.get('loop'))
        assert all(p['batch_size'] == 16 for p in parts.values())
    # The search loop's split gets two images of every identity per part.
    dnas = [s for s in specs if s['role'] == 'loop' and 'DNAS' in s['name']]
    assert dnas[0]['instances_per_id'] == bench.split_instances(0.8) == 8
    assert bench.split_instances(0.5) == 4
    only = bench.plan(
        bench.parse_args(['--all-seeds', '--seeds', '004', '--device',
                          'cpu']))[0]
    assert {s['seed_paper'] for s in only} == {'004 AutoLA'}


def test_strip_method_gives_the_network_without_the_method():
    from mmengine.config import Config
    bench = load_script()
    root = REPO_ROOT

    def stripped(config):
        cfg = Config.fromfile(osp.join(root, config))
        bench.strip_method(cfg, config)
        bench.drop_pretrained(cfg.model)
        return cfg

    dcs = stripped('configs/search/dcs-fb_mobilenet-v2_market1501.py')
    assert dcs.model.backbone.attentions == []
    assert dcs.model.head.type == 'ReIDHead' and 'loss_ib' not in \
        dcs.model.head
    assert not any(h['type'] == 'IBVariationalHook' for h in dcs.custom_hooks)
    assert dcs.model.backbone.backbone.init_cfg is None  # no download
    # DA windows were the search's only architecture: a plain network with
    # the weights' optimiser; a DNAS supernet stays a search.
    da = stripped(
        'configs/search/da-fb-single_mobilenet-v2_search_market1501.py')
    assert da.model.type == 'ReID' and 'optimizer' in da.optim_wrapper
    dnas = stripped(
        'configs/search/dcs-dnas_fbnetv2-large_search_market1501.py')
    assert dnas.model.type == 'BilevelSearchModel'
    assert dnas.model.model.backbone.attentions == []
    retrain = stripped(
        'configs/search/da-fb-single_mobilenet-v2_retrain_market1501.py')
    assert retrain.model.backbone.type == 'AttentionBackbone'
    stra = stripped('configs/reid/stra-resnet50_b32_market1501.py')
    assert 'auxiliary_losses' not in stra.model
    with pytest.raises(SystemExit, match='not AttentionBackbone'):
        stripped('configs/reid/resnet50_b64_market1501.py')


def test_all_seeds_arguments_are_checked(capsys):
    bench = load_script()
    for argv, message in (
        ([CONFIG, '--all-seeds'], 'give a config, or --all-seeds'),
        ([], 'give a config, or --all-seeds'),
        ([CONFIG, '--tiny'], '--tiny and --seeds are options of'),
        (['--all-seeds', '--seeds', '007'], "--seeds: unknown ['007']"),
        (['--all-seeds', '--batch-size', '8'], 'needs --batch-size >= 16'),
        (['--all-seeds', '--ablate'], '--all-seeds is a mode of its own'),
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(argv + ['--device', 'cpu'])
        assert message in capsys.readouterr().err


def test_all_seeds_tiny_builds_every_row(tmp_path):
    out = tmp_path / 'seeds.json'
    result = run(
        ['--all-seeds', '--tiny', '--device', 'cpu', '--out',
         str(out)])
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    data = json.loads(out.read_text())
    assert data['mode'] == 'all_seeds'
    bench = load_script()
    table = data['summary']['table']
    loops = [row for row in bench.SEED_CONFIGS if row[4].get('loop')]
    assert len(table) == len(bench.SEED_CONFIGS) + len(loops)
    methods = [e['method'] for e in table if e['row'] == e['method']]
    assert methods == [row[1] for row in bench.SEED_CONFIGS]
    for entry in table:
        for key in ('step_ms', 'reference_step_ms', 'time_ratio', 'cpu_ratio',
                    'memory_ratio'):
            assert entry[key] > 0, (entry['method'], key)
        assert entry['above_goal'] == (entry['time_ratio'] - 1 > 0.08)
    loop_rows = {e['method']: e for e in table if e['row'] != e['method']}
    assert set(loop_rows) == {row[1] for row in loops}
    dnas = loop_rows['DCS-DNAS search, FBNetV2-Large']
    assert dnas['train_loop'] == 'BilevelEpochBasedTrainLoop'
    assert {'GumbelTemperatureHook', 'IBVariationalHook'} <= set(dnas['hooks'])
    assert 'IBVariationalHook' in loop_rows['DCS-FB + IB, MobileNetV2'][
        'hooks']
    # The Markdown table: a header, a rule and one line per entry.
    lines = [
        line for line in data['summary']['markdown'].splitlines()
        if line.startswith('|')
    ]
    assert len(lines) == 2 + len(table)
    assert all(line.count('|') == 13 for line in lines)
    assert data['summary']['markdown'] in result.stdout
