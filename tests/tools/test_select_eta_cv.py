"""tools/analysis_tools/select_eta_cv.py: eta of the IB bound by k-fold
cross-validation over the training identities (seed 001), k = 2 and two
eta values on the tiny synthetic Market-1501, 1 epoch each."""
import json
import os
import os.path as osp
import sys

from conftest import REPO_ROOT
from test_train_test import run, tiny_options

CONFIG = osp.join(REPO_ROOT,
                  'configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py')
TOOL = 'tools/analysis_tools/select_eta_cv.py'


def _names(folder):
    return sorted(os.listdir(folder))


def _pid_cam(name):
    return int(name[:4]), int(name[6])


def test_two_folds_two_etas(market_root, tmp_path):
    work = str(tmp_path / 'cv')
    base = [
        sys.executable, TOOL, CONFIG, '--etas', '0.1', '0.5', '--folds', '2',
        '--epochs', '1', '--work-dir', work
    ]
    result = run(base + ['--cfg-options', *tiny_options(market_root, 1)])
    with open(osp.join(work, 'select_eta_cv.json')) as f:
        summary = json.load(f)
    assert [row['eta'] for row in summary['table']] == [0.1, 0.5]
    for row in summary['table']:
        assert len(row['fold_map']) == 2
        assert all(0 <= m <= 100 for m in row['fold_map'])
    best = max(summary['table'], key=lambda r: r['mean'])
    assert summary['chosen_eta'] == best['eta']
    with open(osp.join(work, 'select_eta_cv.md')) as f:
        text = f.read()
    assert text.startswith('# eta by cross-validation')
    assert f"Chosen eta: {summary['chosen_eta']:g}." in text
    assert 'Chosen eta' in result.stdout
    # Each run trained with its eta on its fold's training identities.
    with open(osp.join(work, 'folds', 'folds.json')) as f:
        folds = json.load(f)
    for eta in ('0.1', '0.5'):
        for fold in folds:
            text = open(
                osp.join(work, f'eta_{eta}', f"fold_{fold['fold']}",
                         'config.py')).read()
            assert f'loss_weight={eta}' in text.replace(' ', '')
            assert f"num_classes={fold['num_train_ids']}" in \
                text.replace(' ', '')
    # The folds are identity-disjoint, cover the 8 training identities, and
    # the held-out images are split into query / gallery by camera.
    held = [set(f['held_out_ids']) for f in folds]
    assert not held[0] & held[1] and len(held[0] | held[1]) == 8
    for fold in folds:
        root = fold['data_root']
        train_ids = {
            _pid_cam(n)[0]
            for n in _names(osp.join(root, 'bounding_box_train'))
        }
        assert train_ids == held[1 - fold['fold']]
        query = [_pid_cam(n) for n in _names(osp.join(root, 'query'))]
        gallery = [
            _pid_cam(n) for n in _names(osp.join(root, 'bounding_box_test'))
        ]
        assert {p for p, _ in query} | {p for p, _ in gallery} == \
            held[fold['fold']]
        assert len(set(query)) == len(query)  # one query per id and camera
        for pid, cam in query:  # a match in another camera
            assert any(p == pid and c != cam for p, c in gallery)
    # Nothing is overwritten; --skip-existing recollects the same table.
    again = run(base, check=False)
    assert again.returncode != 0 and 'exists' in again.stderr
    os.remove(osp.join(work, 'select_eta_cv.json'))
    run(base +
        ['--skip-existing', '--cfg-options', *tiny_options(market_root, 1)])
    with open(osp.join(work, 'select_eta_cv.json')) as f:
        assert json.load(f)['table'] == summary['table']


def test_config_without_ib_loss_is_refused(market_root, tmp_path):
    config = osp.join(REPO_ROOT,
                      'configs/reid/demo_dcs_mobilenetv2_synthetic.py')
    result = run([
        sys.executable, TOOL, config, '--etas', '0.1', '--epochs', '1',
        '--work-dir',
        str(tmp_path / 'w')
    ],
                 check=False)
    assert result.returncode != 0
    assert 'model.head.loss_ib.loss_weight' in result.stderr
