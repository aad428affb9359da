"""tools/analysis_tools/benchmark_ib.py: the variants it trains, its table."""
import importlib.util
import os.path as osp

import pytest
from conftest import REPO_ROOT

SCRIPT = 'tools/analysis_tools/benchmark_ib.py'
CONFIG = osp.join(REPO_ROOT,
                  'configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py')


def load_script():
    spec = importlib.util.spec_from_file_location('benchmark_ib',
                                                  osp.join(REPO_ROOT, SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_variants_differ_only_in_the_ib_parts(market_root, tmp_path):
    bench = load_script()
    args = bench.parse_args([
        CONFIG, '--data-root', market_root, '--epochs', '4', '--work-dir',
        str(tmp_path)
    ])
    cfgs = {v: bench.variant_cfg(args, v) for v in bench.VARIANTS}
    none = cfgs['none']
    assert none.model.head.type == 'ReIDHead'
    assert 'loss_ib' not in none.model.head
    assert not any(h['type'] == 'IBVariationalHook' for h in none.custom_hooks)
    for variant, source, bound in (('pass', 'pass', 'reconstructed'),
                                   ('training', 'training', 'reconstructed'),
                                   ('training-separable', 'training',
                                    'separable')):
        cfg = cfgs[variant]
        hook = [
            h for h in cfg.custom_hooks if h['type'] == 'IBVariationalHook'
        ][0]
        assert hook['source'] == source, variant
        assert cfg.model.head.loss_ib.bound == bound, variant
        assert cfg.model.backbone == none.model.backbone
    for cfg in cfgs.values():
        assert cfg.train_cfg.max_epochs == 4
        assert cfg.param_scheduler[1].T_max == 3
        assert cfg.train_dataloader.dataset.data_root == market_root
        assert cfg.val_dataloader is None


def test_table_reports_the_ratio_to_the_plain_network():
    bench = load_script()
    row = dict(
        wall_s=[2.0, 2.0],
        cpu_s=[1.0, 1.0],
        total_wall_s=4,
        total_cpu_s=2,
        ib={},
        metrics={
            'reid/mAP': 0.5,
            'reid/rank1': 0.6
        })
    ib = dict(
        I_XW=0.1, I_WY=0.3, IB=-0.2, IBB_reconstructed=0.4, IBB_separable=0.5)
    text = bench.table({
        'none': row,
        'training': dict(row, cpu_s=[1.03, 1.05], ib=ib)
    })
    lines = text.splitlines()
    assert len(lines) == 4
    assert '| none | 2.00 | 1.00 | 1.000x |' in lines[2]
    assert '| training | 2.00 | 1.04 | 1.040x |' in lines[3]
    assert '| -0.2000 | 0.4000 | 0.5000 | 0.5000 | 0.6000 |' in lines[3]


def test_bad_arguments_are_refused(tmp_path):
    bench = load_script()
    with pytest.raises(SystemExit):
        bench.parse_args([CONFIG, '--data-root', str(tmp_path)])
    with pytest.raises(SystemExit):
        bench.parse_args([CONFIG, '--epochs', '1'])
