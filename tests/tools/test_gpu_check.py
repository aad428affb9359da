"""tools/analysis_tools/gpu_check.sh --dry-run: every measurement of the
one-shot GPU check runs (on the CPU, at tiny sizes) and lands in one table
with its JSON."""
import json
import os
import subprocess
import sys

from conftest import REPO_ROOT

SCRIPT = 'tools/analysis_tools/gpu_check.sh'


def test_dry_run_fills_the_table_and_the_json(tmp_path):
    out_dir = tmp_path / 'check'
    result = subprocess.run(
        ['bash', SCRIPT, '--dry-run', '--out-dir',
         str(out_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3000,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable))
    assert result.returncode == 0, (
        result.stdout[-4000:] + result.stderr[-2000:])
    assert 'DRY RUN on the CPU at tiny sizes' in result.stdout
    with open(out_dir / 'summary.json') as f:
        summary = json.load(f)
    assert summary['dry_run'] is True and summary['device'] == 'cpu'
    assert {s['status'] for s in summary['steps'].values()} == {'ok'}
    figures = {row['figure'].split(' (')[0]: row for row in summary['rows']}
    for figure in ('Runner / bare loop images/s',
                   'DA single-window step overhead on MobileNetV2',
                   'DA multi-window step overhead on MobileNetV2',
                   'DCS step overhead on MobileNetV2',
                   'CSA-G1 vs SA module, fwd+bwd', 'PCB + CSA', 'PCB + SA',
                   'Re-ID evaluation, distances + CMC + mAP + mINP',
                   'Demo training + test', 'Whole check, wall time'):
        assert any(name.startswith(figure) for name in figures), figure
    # Every figure was measured, and judged where it has a goal.
    for row in summary['rows']:
        assert row['measured'] != '-', row
        assert row['verdict'] in ('pass', 'fall short', 'reference'), row
    assert sum(r['verdict'] == 'reference' for r in summary['rows']) == 2
    for name in ('runner', 'da_dcs', 'attention', 'pcb_csa', 'pcb_sa', 'eval',
                 'demo'):
        assert (out_dir / f'{name}.json').is_file(), name
    # The printed table is the Markdown one beside the JSON.
    table = (out_dir / 'summary.md').read_text().split('\n\n', 1)[1].strip()
    assert table in result.stdout
    # An existing folder is never overwritten.
    again = subprocess.run(
        ['bash', SCRIPT, '--dry-run', '--out-dir',
         str(out_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert again.returncode == 2 and 'exists' in again.stderr
