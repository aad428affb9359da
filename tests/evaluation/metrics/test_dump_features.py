import numpy as np
import pytest
import torch

from mmattn.evaluation.metrics import DumpFeatures


def test_reid_samples_keep_labels_cameras_and_query_flags(tmp_path):
    out = str(tmp_path / 'f.npz')
    metric = DumpFeatures(out)
    metric.process(None, [
        dict(
            pred_feature=torch.ones(3),
            gt_label=torch.tensor([5]),
            camera_id=2,
            is_query=True),
        dict(
            pred_feature=torch.zeros(3),
            gt_label=torch.tensor([7]),
            camera_id=0,
            is_query=False),
    ])
    metric.compute_metrics(metric.results)
    saved = np.load(out)
    assert saved['features'].tolist() == [[1, 1, 1], [0, 0, 0]]
    assert saved['labels'].tolist() == [5, 7]
    assert saved['camera_ids'].tolist() == [2, 0]
    assert saved['is_query'].tolist() == [True, False]


def test_other_tasks_without_labels(tmp_path):
    out = str(tmp_path / 'd.npz')
    metric = DumpFeatures(out)
    metric.process(None, [dict(pred_descriptor=torch.arange(4.))])
    metric.compute_metrics(metric.results)
    saved = np.load(out)
    assert saved['features'].shape == (1, 4)
    assert saved['labels'].tolist() == [-1]
    assert saved['camera_ids'].tolist() == [-1]


def test_refuses_existing_file_and_featureless_output(tmp_path):
    existing = tmp_path / 'x.npz'
    existing.write_bytes(b'')
    with pytest.raises(FileExistsError, match='not overwriting'):
        DumpFeatures(str(existing))
    with pytest.raises(ValueError, match='.npz'):
        DumpFeatures(str(tmp_path / 'x.pkl'))
    metric = DumpFeatures(str(tmp_path / 'y.npz'))
    with pytest.raises(KeyError, match='pred_feature'):
        metric.process(None, [dict(pred_score=torch.ones(2))])
