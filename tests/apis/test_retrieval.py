"""mmattn.apis retrieval: features of image folders / file lists and
ranked galleries, on the synthetic Market-1501-layout set with a randomly
initialised demo model."""
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

from mmattn.apis import (build_dataset, extract_features,
                         extract_image_features, init_model, list_images,
                         rank_by_distance, reid_name_labels, retrieval_grid,
                         retrieve)
from mmattn.evaluation.functional import k_reciprocal_rerank, pairwise_distance
from mmattn.visualization import MATCH_COLOR, MISMATCH_COLOR, RankGridLayout
from mmattn.visualization.rank_grid import UNLABELLED_COLOR

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/reid/demo_dcs_mobilenetv2_synthetic.py')


@pytest.fixture(scope='module')
def model(market_root):
    torch.manual_seed(0)
    return init_model(
        CONFIG,
        cfg_options={
            'test_dataloader.dataset.data_root': market_root,
            'model.head.num_classes': 8
        })


def test_list_images_folders_files_and_errors(market_root, tmp_path):
    query = osp.join(market_root, 'query')
    files = list_images(query)
    assert files == sorted(files) and len(files) > 1
    assert all(osp.dirname(f) == query for f in files)
    # A list keeps its order and expands folders in place.
    mixed = list_images([files[1], query, files[0]])
    assert mixed == [files[1]] + files + [files[0]]
    with pytest.raises(FileNotFoundError, match='does not exist'):
        list_images(osp.join(market_root, 'missing'))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match='not an image file'):
        list_images(str(tmp_path / 'notes.txt'))
    with pytest.raises(ValueError, match='holds no images'):
        list_images(str(tmp_path))
    with pytest.raises(ValueError, match='no images given'):
        list_images([])


def test_reid_name_labels():
    assert reid_name_labels('/x/0002_c1s1_000451_03.jpg') == (2, 1)
    assert reid_name_labels('-1_c3s2_000001_00.jpg') == (-1, 3)
    assert reid_name_labels('0001_c2_f0046182.jpg') == (1, 2)
    assert reid_name_labels('person.jpg') is None


def test_folder_features_equal_dataset_features(model, market_root):
    """A folder goes through the same test pipeline and model as the
    config's dataset: the same files give the same features."""
    dataset = build_dataset(model.cfg, 'test')
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    feats, got_paths = extract_image_features(model, paths, batch_size=7)
    assert got_paths == paths
    expected = extract_features(model, dataset, batch_size=16)
    torch.testing.assert_close(feats, expected)
    # Normalised Re-ID embeddings.
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(len(paths)))
    with pytest.raises(ValueError, match='batch_size'):
        extract_image_features(model, paths, batch_size=0)


def test_retrieve_ranks_by_distance_and_reranks(model, market_root):
    query = osp.join(market_root, 'query')
    gallery = osp.join(market_root, 'bounding_box_test')
    q_feats, q_paths = extract_image_features(model, query)
    g_feats, g_paths = extract_image_features(model, gallery)
    for rerank in (False, True):
        result = retrieve(
            model, query, gallery, topk=5, rerank=rerank, k1=6, k2=3)
        assert result.query_paths == q_paths
        assert result.gallery_paths == g_paths
        dist = k_reciprocal_rerank(q_feats, g_feats, k1=6, k2=3) \
            if rerank else pairwise_distance(q_feats, g_feats)
        order = torch.sort(dist, dim=1, stable=True).indices[:, :5]
        assert torch.equal(result.indices, order)
        torch.testing.assert_close(result.distances, dist.gather(1, order))
    record = result.to_dict()
    assert record['topk'] == 5 and len(record['queries']) == len(q_paths)
    first = record['queries'][0]
    pid, cam = reid_name_labels(q_paths[0])
    assert (first['identity'], first['camera']) == (pid, cam)
    assert [r['rank'] for r in first['results']] == [1, 2, 3, 4, 5]
    for entry in first['results']:
        assert entry['same_identity'] == (
            reid_name_labels(entry['path'])[0] == pid)
    with pytest.raises(ValueError, match='metric'):
        retrieve(model, query, gallery, metric='l1')


def test_query_in_gallery_is_left_out_of_its_ranking(model, market_root):
    gallery = list_images(osp.join(market_root, 'bounding_box_test'))[:6]
    result = retrieve(model, gallery[:2], gallery, topk=10)
    # 6 gallery images minus the query itself: 5 results, then padding.
    for q in range(2):
        ranked = result.indices[q].tolist()
        assert q not in ranked[:5] and ranked[5:] == [-1] * 5
        assert torch.isinf(result.distances[q, 5:]).all()
    kept = retrieve(
        model, gallery[:2], gallery, topk=1, exclude_same_file=False)
    assert kept.indices[:, 0].tolist() == [0, 1]
    assert torch.allclose(kept.distances[:, 0], torch.zeros(2), atol=1e-3)


def test_rank_by_distance_ties_and_padding():
    dist = torch.tensor([[0.5, 0.1, 0.5, 0.2]])
    indices, dists = rank_by_distance(dist, 6)
    assert indices.tolist() == [[1, 3, 0, 2, -1, -1]]
    assert torch.isinf(dists[0, 4:]).all()
    with pytest.raises(ValueError, match='topk'):
        rank_by_distance(dist, 0)


def test_retrieval_grid_frames_by_identity(model, market_root, tmp_path):
    query = osp.join(market_root, 'query')
    gallery = osp.join(market_root, 'bounding_box_test')
    result = retrieve(model, query, gallery, topk=4)
    cell = (32, 16)
    grid = retrieval_grid(result, cell, queries=[0, 1])
    layout = RankGridLayout(2, 4, cell=cell, label_height=14)
    assert grid.shape == layout.shape + (3, )
    pid = reid_name_labels(result.query_paths[0])[0]
    for col, g in enumerate(result.indices[0].tolist(), 1):
        y, x = layout.frame_origin(0, col)
        same = reid_name_labels(result.gallery_paths[g])[0] == pid
        assert tuple(grid[y, x]) == (MATCH_COLOR if same else MISMATCH_COLOR)
    # Names without identities: grey frames.
    plain = tmp_path / 'plain'
    plain.mkdir()
    for i, path in enumerate(result.gallery_paths[:3]):
        shutil.copy(path, plain / f'person{i}.jpg')
    unnamed = retrieve(model, str(plain), str(plain), topk=2)
    grid = retrieval_grid(unnamed, cell)
    y, x = RankGridLayout(3, 2, cell=cell, label_height=14).frame_origin(0, 1)
    assert tuple(grid[y, x]) == UNLABELLED_COLOR
    with pytest.raises(ValueError, match='queries must be'):
        retrieval_grid(result, cell, queries=[len(result.query_paths)])
    assert np.asarray(grid).dtype == np.uint8
