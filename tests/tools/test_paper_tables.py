"""The record of the seeds' tables (issue 13 item 6): model-index.yml, the
metafiles and tools/analysis_tools/paper_tables.py.

Every row's parameters are rebuilt and recounted; FLOPs are recounted for a
representative subset (one row per collection, small inputs) and read from
the metafile otherwise, where they are checked against the paper (within
3 % or a written reason)."""
import glob
import json
import os.path as osp
import re
import shutil
import sys

import pytest
import yaml
from conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
import paper_tables as pt  # noqa: E402

INDEX = osp.join(REPO_ROOT, 'model-index.yml')
# One row per collection (and the FBNetV2 range build), all cheap to trace.
FLOPS_SUBSET = [
    's004t2_hoga_resnet20_cifar10',  # AutoLA, HOGA
    's004t6_hog-cbam_resnet20_cifar10',  # HOG_CBAM
    's001t1_dcs-fb_mobilenet-v2_imagenet',  # DCS (softmax affinity)
    's000t1_da-fb-single_mobilenet-v2_256x128_scratch',  # DA, searched
    's002t7_l2net-csa_hardnet_liberty',  # CSA, 1-channel input
    's001t2_dcs-dnas_fbnetv2',  # FBNetV2 range
]


@pytest.fixture(scope='module')
def rows():
    return pt.load_rows(INDEX)


@pytest.fixture(scope='module')
def counter():
    return pt.Counter(with_flops=True)


def test_model_index_imports_every_metafile():
    index = yaml.safe_load(open(INDEX))
    imported = sorted(index['Import'])
    on_disk = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(
            osp.join(REPO_ROOT, 'configs/**/metafile.yml'), recursive=True))
    assert imported == on_disk
    assert len(set(imported)) == len(imported)


def test_metafiles_follow_the_openmmlab_format(rows):
    for path in pt.metafile_paths(INDEX):
        data = yaml.safe_load(open(path))
        assert set(data) == {'Collections', 'Models'}, path
        for collection in data['Collections']:
            assert collection['Name'] and collection['Paper']['Title']
            assert collection['Metadata']['Training Data']
            assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
        for model in data['Models']:
            where = f'{path}: {model["Name"]}'
            assert set(model) >= {
                'Name', 'In Collection', 'Config', 'Metadata', 'Paper'
            }, where
            meta = model['Metadata']
            assert meta['Training Data'] and meta['Paper Table'], where
            # Measured figures are recorded for every row.
            assert isinstance(meta['Parameters'], int), where
            assert isinstance(meta['FLOPs'], int), where
            for result in model.get('Results', []):
                assert set(result) == {'Task', 'Dataset', 'Metrics'}, where
                assert all(
                    isinstance(v, (int, float))
                    for v in result['Metrics'].values()), where
    assert len(rows) > 80
    assert sum(1 for r in rows if r['paper_params'] or r['paper_flops']) > 80


def test_every_config_path_exists(rows):
    missing = [(r['name'], r['config']) for r in rows
               if not osp.isfile(osp.join(REPO_ROOT, r['config']))]
    assert not missing


def test_every_row_within_3_percent_or_explained(rows):
    """Recorded figures vs the paper's; an off row needs a reason that shows
    its arithmetic (numbers), and an explained row must really be off."""
    bad = []
    for row in rows:
        item = pt.compare(row)
        if item['status'] not in ('ok', 'explained'):
            bad.append((row['name'], item['status'], item['params_ratio'],
                        item['flops_ratio']))
        if item['status'] == 'explained':
            assert re.search(r'\d', row['reason']), row['name']
    assert not bad, bad


def test_parameters_rebuilt_for_every_row(rows):
    """Every config builds and its parameter count is the recorded one (a
    stale metafile fails here: rerun --update-metafiles). One config's
    networks are kept at a time (all of them would need several GB)."""
    groups = {}
    for row in rows:
        groups.setdefault(row['config'], []).append(row)
    stale = []
    for members in groups.values():
        counter = pt.Counter(with_flops=False)
        for row in members:
            measured = counter.measure(row)
            if measured['params'] != row['params'] or measured.get(
                    'params_range') != (row['params_range'] or None):
                stale.append((row['name'], row['params'], measured['params']))
            measured['flops'], measured['flops_range'] = (row['flops'],
                                                          row['flops_range'])
            item = pt.compare(row, measured)
            assert item['status'] in ('ok', 'explained'), item
        del counter
    assert not stale, stale


@pytest.mark.parametrize('name', FLOPS_SUBSET)
def test_flops_recounted(rows, counter, name):
    row = next(r for r in rows if r['name'] == name)
    measured = counter.measure(row)
    assert measured['flops'] == pytest.approx(row['flops'], rel=1e-3)
    if row['build'].get('FBNetV2'):
        assert measured['flops_range'] == pytest.approx(
            row['flops_range'], rel=1e-3)
        assert measured['flops_range'][0] < measured['flops_range'][1]
    assert pt.compare(row, measured)['status'] in ('ok', 'explained')


def test_fbnetv2_range_rows_span_the_supernet(rows, counter):
    row = next(r for r in rows if r['name'] == 's001t2_dcs-dnas_fbnetv2')
    small = counter.model(row, 'smallest')
    large = counter.model(row, 'largest')
    assert pt.count_params(small, row['scope']) < \
        pt.count_params(large, row['scope'])
    assert row['params_range'][1] == row['params']


def test_compare_statuses():
    row = dict(
        name='x',
        family='f',
        collection='c',
        config='c.py',
        table='t',
        input_size=[3, 32, 32],
        scope='model',
        paper_params=1_000_000,
        paper_flops=None,
        params=None,
        flops=None,
        params_range=None,
        flops_range=None,
        reason=None,
        build={})
    assert pt.compare(row, dict(params=1_020_000, flops=5))['status'] == 'ok'
    off = pt.compare(row, dict(params=1_050_000, flops=5))
    assert off['status'] == 'off' and off['off'] == ['params_ratio']
    assert off['params_ratio'] == pytest.approx(1.05)
    row['reason'] = 'the paper rounds: 1.05 = ...'
    assert pt.compare(row, dict(params=1_050_000,
                                flops=5))['status'] == 'explained'
    assert pt.compare(row)['status'] == 'unmeasured'


def _tmp_index(tmp_path, names):
    """A model index in tmp_path with a copy of the classification metafile
    cut to ``names`` (Config paths stay repo-relative)."""
    src = osp.join(REPO_ROOT, 'configs/classification/metafile.yml')
    data = yaml.safe_load(open(src))
    data['Models'] = [m for m in data['Models'] if m['Name'] in names]
    folder = tmp_path / 'configs' / 'classification'
    folder.mkdir(parents=True)
    pt.write_metafile(str(folder / 'metafile.yml'), data)
    index = tmp_path / 'model-index.yml'
    index.write_text('Import:\n  - configs/classification/metafile.yml\n')
    return str(index), str(folder / 'metafile.yml')


def test_cli_formats_filters_and_update(tmp_path, capsys):
    names = ['s004t2_resnet20_cifar10', 's004t2_se_resnet20_cifar10']
    index, metafile = _tmp_index(tmp_path, names)
    # Corrupt the recorded figures: --update-metafiles rewrites them.
    data = yaml.safe_load(open(metafile))
    for model in data['Models']:
        model['Metadata']['Parameters'] = 1
    pt.write_metafile(metafile, data)
    out = str(tmp_path / 'table.json')
    compared = pt.main([
        '--index', index, '--format', 'json', '--out', out, '--row',
        's004t2_res*', '--update-metafiles'
    ])
    assert [c['name'] for c in compared] == ['s004t2_resnet20_cifar10']
    table = json.load(open(out))
    assert table['summary']['ok'] == 1
    assert table['rows'][0]['params_ratio'] == pytest.approx(
        table['rows'][0]['params'] / 270_000)
    updated = {
        m['Name']: m['Metadata']
        for m in yaml.safe_load(open(metafile))['Models']
    }
    assert updated['s004t2_resnet20_cifar10']['Parameters'] > 1
    assert updated['s004t2_se_resnet20_cifar10']['Parameters'] == 1
    assert open(metafile).read().startswith(pt.METAFILE_HEADER)

    pt.main(['--index', index, '--family', 'classification', '--no-flops'])
    md = capsys.readouterr().out
    assert md.count('\n| s004t2_') == 2 and '| ratio |' in md

    with pytest.raises(ValueError, match='no such family'):
        pt.main(['--index', index, '--family', 'nope'])
    with pytest.raises(ValueError, match='no row matches'):
        pt.main(['--index', index, '--row', 'nope*'])


def test_readme_section(tmp_path):
    index, _ = _tmp_index(tmp_path, ['s004t2_resnet20_cifar10'])
    readme = tmp_path / 'README.md'
    readme.write_text(f'# T\n\nbefore\n{pt.README_START}\nold\n'
                      f'{pt.README_END}\nafter\n')
    pt.main(['--index', index, '--recorded', '--readme', str(readme)])
    text = readme.read_text()
    assert text.startswith('# T\n\nbefore\n') and text.endswith('\nafter\n')
    assert 'old' not in text
    assert '`configs/classification/resnet20_cifar10.py`' in text
    assert 'seed 004 table 2 (CIFAR-10): ResNet20' in text
    readme.write_text('no markers\n')
    with pytest.raises(ValueError, match='markers'):
        pt.write_readme(str(readme), index)


def test_bad_metafiles_name_the_file_and_field(tmp_path):
    index, metafile = _tmp_index(tmp_path, ['s004t2_resnet20_cifar10'])
    good = yaml.safe_load(open(metafile))
    cases = [
        (('Metadata', 'Input Size'), [32], 'Input Size'),
        (('Metadata', 'Paper Parameters'), 'many', 'expected a number'),
        (('In Collection', ), 'Nope', 'In Collection'),
        (('Metadata', 'Parameters Scope'), 'head', 'Parameters Scope'),
    ]
    for keys, value, message in cases:
        data = yaml.safe_load(yaml.safe_dump(good))
        node = data['Models'][0]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
        pt.write_metafile(metafile, data)
        with pytest.raises(ValueError, match=message) as error:
            pt.load_rows(index)
        assert 'metafile.yml' in str(error.value)
    data = yaml.safe_load(yaml.safe_dump(good))
    data['Models'][0]['Config'] = 'configs/classification/missing.py'
    pt.write_metafile(metafile, data)
    row = pt.load_rows(index)[0]
    with pytest.raises(FileNotFoundError, match='missing.py'):
        pt.build_model(row)
    shutil.rmtree(str(tmp_path / 'configs'))
    with pytest.raises(FileNotFoundError):
        pt.load_rows(index)
