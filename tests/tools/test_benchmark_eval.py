"""tools/analysis_tools/benchmark_eval.py end to end, tiny, on the CPU."""
import json
import os
import subprocess
import sys

from conftest import REPO_ROOT

SCRIPT = 'tools/analysis_tools/benchmark_eval.py'
TINY = [
    '--num-query', '40', '--num-gallery', '300', '--dim', '16', '--num-ids',
    '20', '--num-cams', '3', '--noise', '1.0', '--device', 'cpu', '--repeats',
    '2'
]


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, SCRIPT, *args],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          env=env)


def test_every_stage_against_the_bare_gemm(tmp_path):
    out = tmp_path / 'eval.json'
    result = run(
        TINY +
        ['--check-reference', '--reference-queries', '30', '--out',
         str(out)])
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    stages = ['gemm', 'distances', 'ranking', 'total', 'metric']
    for key in ('seconds', 'median_seconds', 'cpu_seconds', 'ratio_to_gemm',
                'median_ratio_to_gemm', 'cpu_ratio_to_gemm'):
        assert list(data[key]) == stages, key
    assert all(len(data['all_seconds'][s]) == 2 for s in stages)
    assert data['ratio_to_gemm']['gemm'] == 1.0
    assert data['ratio_to_gemm']['total'] == (
        data['seconds']['total'] / data['seconds']['gemm'])
    assert data['meets_goal'] == (data['ratio_to_gemm']['total'] <= 1.15)
    assert data['ranking_threads'] == 1
    # The chunked path, the full matrix, ReIDMetric and the plain loop
    # agree.
    assert data['full_vs_chunked_max_diff'] == 0
    assert data['metric_vs_total_max_diff'] == 0
    assert data['reference']['agrees'] and data['reference']['queries'] == 30
    assert 0 < data['mAP'] < 1
    assert 'end to end / bare GEMM' in result.stdout
    assert 'reference check on 30 queries' in result.stdout


def test_stage_subset_cosine_and_bad_arguments():
    result = run(TINY + [
        '--stages', 'total', '--distance', 'cosine', '--ranking-threads', '0'
    ])
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [
        line.split()[0] for line in result.stdout.splitlines()
        if line.split() and line.split()[0] in ('gemm', 'distances', 'ranking',
                                                'total', 'metric')
    ]
    assert lines == ['gemm', 'total']  # the floor is always timed
    bad = run(TINY + ['--ranking-threads', '-1'])
    assert bad.returncode != 0
    assert '--ranking-threads must be >= 0' in bad.stderr
