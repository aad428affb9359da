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
TINY = ['--batch-size', '8', '--input-size', '32', '16', '--iters', '1',
        '--warmup', '1', '--device', 'cpu']


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, env=env)


def check_row(row, mode, name):
    assert row['mode'] == mode and row['name'] == name
    assert row['images_per_s'] > 0 and row['step_ms'] > 0
    assert row['cpu_ms_per_step'] > 0
    assert row['peak_memory_mb'] >= row['rss_at_start_mb'] > 0
    assert row['batch_size'] == 8 and row['input_size'] == [32, 16]


def test_runner_vs_bare_loop_writes_json_and_keeps_existing_out(tmp_path):
    out = tmp_path / 'result.json'
    result = run([CONFIG, *TINY, '--channels-last', '--amp', 'bf16',
                  '--workers', '0', '--out', str(out), '--cfg-options',
                  'model.head.num_classes=8'])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[
        -3000:]
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
    spec = importlib.util.spec_from_file_location(
        'benchmark_train', osp.join(REPO_ROOT, SCRIPT))
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
    rows = [dict(s, images_per_s=10. * (i + 1), step_ms=1.)
            for i, s in enumerate(specs[:3])]
    summary = bench.summarise(rows, mode)
    assert rows[1]['gain_vs_previous'] == pytest.approx(1.0)
    assert rows[2]['gain_vs_previous'] == pytest.approx(0.5)
    assert rows[2]['gain_vs_baseline'] == pytest.approx(2.0)
    assert summary['final_images_per_s'] == 30.

    args = bench.parse_args([CONFIG, '--device', 'cpu', '--ablate',
                             '--ablate-steps', 'workers', '--workers', '2'])
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
