"""tools/retrieve.py: a query folder against a gallery folder of the
synthetic set, JSON + ranked-results picture, with a checkpoint of a
randomly initialised demo model."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch

from mmattn.apis import init_model, retrieve
from mmattn.visualization import RankGridLayout

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/reid/demo_dcs_mobilenetv2_synthetic.py')
OPTIONS = ['--cfg-options', 'model.head.num_classes=8']


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = init_model(CONFIG, cfg_options={'model.head.num_classes': 8})
    path = str(tmp_path_factory.mktemp('retrieve') / 'random.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def run(*args):
    return subprocess.run([sys.executable, 'tools/retrieve.py', *args],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True)


def test_retrieve_tool_writes_json_and_picture(checkpoint, market_root,
                                               tmp_path):
    query = osp.join(market_root, 'query')
    gallery = osp.join(market_root, 'bounding_box_test')
    out = str(tmp_path / 'out')
    args = [
        CONFIG, checkpoint, '--query', query, '--gallery', gallery, '--topk',
        '4', '--rerank', '--k1', '6', '--k2', '3', '--max-rows', '3',
        '--cell-size', '32', '16', '--out-dir', out, '--no-visualizer',
        *OPTIONS
    ]
    result = run(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(osp.join(out, 'retrieval.json')) as f:
        record = json.load(f)
    model = init_model(CONFIG, checkpoint, {'model.head.num_classes': 8})
    expected = retrieve(model, query, gallery, topk=4, rerank=True, k1=6, k2=3)
    assert record['rerank'] == dict(k1=6, k2=3, lambda_value=0.3)
    assert [q['path'] for q in record['queries']] == expected.query_paths
    for q, entry in enumerate(record['queries']):
        got = [
            expected.gallery_paths.index(r['path']) for r in entry['results']
        ]
        assert got == expected.indices[q].tolist()
        assert [r['distance'] for r in entry['results']] == pytest.approx(
            expected.distances[q].tolist(), abs=1e-5)
        assert all('same_identity' in r for r in entry['results'])
    picture = cv2.imread(osp.join(out, 'retrieval.png'))
    layout = RankGridLayout(3, 4, cell=(32, 16), label_height=14)
    assert picture.shape == layout.shape + (3, )
    # Never overwrites without being asked.
    again = run(*args)
    assert again.returncode != 0 and '--overwrite' in again.stderr
