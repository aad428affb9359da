import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                  'benchmark_attention.py')


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('benchmark_attention',
                                                  SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_runs_every_module_and_writes_json(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable, SCRIPT, '--device', 'cpu', '--batch', '2', '--maps',
        '32x6x4', '64x4x2', '--warmup', '0', '--repeats', '1', '--threads',
        '1', '--out',
        str(out)
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report['config']['batch'] == 2
    assert report['config']['maps'] == [[32, 6, 4], [64, 4, 2]]
    results = report['results']
    expected = {
        'SA', 'NonLocal', 'DA-single', 'DA-multi', 'DA-fixed', 'DCS', 'CSA-G1',
        'CSA-G2', 'CSA-G8', 'StRA', 'HOGA', 'HOGA-search', 'HOG_SE',
        'HOG_CBAM', 'SE', 'CBAM', 'SA-sdpa', 'SASA', 'GC', 'GE-8', 'AA'
    }
    for shape in ([32, 6, 4], [64, 4, 2]):
        rows = {r['module']: r for r in results if r['shape'] == shape}
        assert set(rows) == expected
        for row in rows.values():
            assert row['status'] == 'ok', row
            assert row['time_ms'] > 0 and row['peak_mb'] > 0
            assert row['x_faster'] > 0 and row['x_less_memory'] > 0
        assert rows['SA']['x_faster'] == pytest.approx(1.0)
    # the table names every module
    for name in expected:
        assert name in proc.stdout


def test_cpu_peak_memory_sees_a_freed_temporary(bench):

    def step():
        temporary = torch.ones(4 * 2**20 // 4)  # 4 MiB, freed at return
        return temporary.sum()

    peak = bench.cpu_peak_memory_mb(step)
    assert 4.0 <= peak < 4.1


def test_full_self_attention_reference(bench):
    torch.manual_seed(0)
    sa = bench.FullSelfAttention(16)
    with torch.no_grad():
        sa.alpha.fill_(1.0)
    x = torch.randn(2, 16, 3, 4)
    q = sa.query_conv(x).flatten(2)
    k = sa.key_conv(x).flatten(2)
    v = sa.value_conv(x).flatten(2)
    # explicit attention: output i = sum_j softmax_j(q_i . k_j) v_j
    logits = torch.einsum('bci,bcj->bij', q, k)
    expected = torch.einsum('bij,bcj->bci', logits.softmax(-1), v)
    assert torch.allclose(sa(x), expected.view_as(x) + x, atol=1e-6)


def test_ratios_are_against_sa_on_the_same_map(bench):
    results = [
        dict(
            module='SA',
            shape=[32, 4, 4],
            status='ok',
            time_ms=10.0,
            peak_mb=50.0),
        dict(
            module='CSA-G2',
            shape=[32, 4, 4],
            status='ok',
            time_ms=2.0,
            peak_mb=5.0),
        dict(
            module='CSA-G2',
            shape=[64, 2, 2],
            status='ok',
            time_ms=1.0,
            peak_mb=1.0),
        dict(
            module='SA',
            shape=[64, 2, 2],
            status='out of memory',
            time_ms=None,
            peak_mb=None),
    ]
    bench.add_ratios(results)
    assert results[1]['x_faster'] == 5.0
    assert results[1]['x_less_memory'] == 10.0
    assert results[2]['x_faster'] is None
    for row in results:
        row['batch'] = 2
    table = bench.format_table(results)
    assert 'out of memory' in table and '10.0' in table


def test_arguments(bench):
    args = bench.parse_args(['--device', 'cpu'])
    assert args.batch == 2
    assert args.maps == [(256, 96, 32), (1024, 24, 8)]
    assert args.modules == list(bench.MODULES)
    assert bench.parse_args(['--device', 'cpu', '--maps', 'stage3',
                             '64x8x4']).maps == [(1024, 24, 8), (64, 8, 4)]
    for bad in (['--maps',
                 '30x4x4'], ['--maps',
                             'stage9'], ['--batch',
                                         '0'], ['--modules', 'Transformer']):
        with pytest.raises(SystemExit):
            bench.parse_args(['--device', 'cpu'] + bad)
