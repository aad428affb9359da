"""docs/make_model_zoo.py and docs/make_api.py, run at every docs build."""
import importlib
import importlib.util
import os.path as osp

import pytest
from conftest import REPO_ROOT


def load_script(name):
    spec = importlib.util.spec_from_file_location(
        f'mmattn_docs_{name}', osp.join(REPO_ROOT, 'docs', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


zoo = load_script('make_model_zoo')

METAFILE = """
Collections:
- Name: DA
  Paper: {Title: Differentiable Attention}
  Code: {URL: 'https://example.org/da'}
Models:
- Name: da_row
  In Collection: DA
  Config: configs/reid/a.py
  Metadata:
    Paper Table: 'seed 000 table 1 | scratch'
    Paper Parameters: 2220000
    Paper FLOPs: 380000000
    Parameters: 2231000
  Results:
  - Task: Person Re-Identification
    Dataset: Market-1501
    Metrics: {mAP: 78.9, Rank-1: 92.0}
"""


def test_no_model_index_gives_a_page_that_says_so(tmp_path):
    text = zoo.render(str(tmp_path))
    assert text.startswith('# Model zoo')
    assert 'No `model-index.yml` yet' in text


def test_rows_from_a_metafile(tmp_path):
    (tmp_path / 'configs' / 'reid').mkdir(parents=True)
    (tmp_path / 'configs' / 'reid' / 'metafile.yml').write_text(METAFILE)
    (tmp_path /
     'model-index.yml').write_text('Import:\n  - configs/reid/metafile.yml\n')
    text = zoo.render(str(tmp_path))
    assert '1 configurations in 1 collections.' in text
    assert '## DA' in text and '*Differentiable Attention*' in text
    row = [line for line in text.splitlines() if '`da_row`' in line]
    assert row == [
        '| `da_row` | `configs/reid/a.py` | seed 000 table 1 \\| scratch '
        '| 2.22M | 0.38G | 2.23M |  | Market-1501: mAP 78.9, Rank-1 92.0 |'
    ]


def test_missing_metafile_and_entry_without_config_are_named(tmp_path):
    (tmp_path /
     'model-index.yml').write_text('Import:\n  - configs/face/metafile.yml\n')
    with pytest.raises(FileNotFoundError, match='configs/face/metafile.yml'):
        zoo.render(str(tmp_path))
    (tmp_path / 'configs' / 'face').mkdir(parents=True)
    (tmp_path / 'configs' / 'face' /
     'metafile.yml').write_text('Models:\n- Name: x\n')
    with pytest.raises(ValueError, match=r"Models\[0\] has no 'Config'"):
        zoo.render(str(tmp_path))


def test_the_repository_metafiles_render():
    text = zoo.render(REPO_ROOT)
    if osp.isfile(osp.join(REPO_ROOT, 'model-index.yml')):
        assert 'configurations in' in text


def test_api_reference_documents_each_object_once():
    api = load_script('make_api')
    by_module = api.collect()
    seen = {}
    for module, names in by_module.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            assert id(obj) not in seen, (module, name, seen.get(id(obj)))
            seen[id(obj)] = (module, name)
    assert by_module['mmattn.models.attentions'][0]
    assert 'DCSAttention' in by_module['mmattn.models.attentions']
    assert 'inject_attention' in sum(by_module.values(), [])
