import random

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

from mmattn.evaluation.functional import (evaluate_rank, k_reciprocal_rerank,
                                          pairwise_distance)
from mmattn.evaluation.metrics import ReIDMetric
from mmattn.registry import METRICS


def reference_rank(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """Plain per-query loop: stable argsort, drop same id + same camera."""
    cmc, aps, inps = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        keep = ~((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        rel = (g_pids[order][keep] == q_pids[i]).astype(np.float64)
        if rel.sum() == 0:
            continue
        hits = np.cumsum(rel)
        cmc.append(hits[:max_rank] > 0)
        aps.append((hits / np.arange(1, len(rel) + 1) * rel).sum() / rel.sum())
        inps.append(rel.sum() / (np.flatnonzero(rel)[-1] + 1))
    return np.mean(cmc, axis=0), np.mean(aps), np.mean(inps)


def make_samples(seed=0,
                 num_query=25,
                 num_gallery=120,
                 num_ids=10,
                 dim=8,
                 levels=None,
                 with_idx=True):
    """Data samples as the Re-ID model's predict hands them to the metric.

    Query samples come first (the ``'test'`` split of the Re-ID datasets);
    ``levels`` gives integer features (exact distances, many ties).
    """
    rng = np.random.default_rng(seed)
    num = num_query + num_gallery
    pids = rng.integers(0, num_ids, num)
    pids[num_query:num_query + 10] = -1  # distractors in the gallery
    cams = rng.integers(0, 3, num)
    if levels:
        feats = rng.integers(0, levels, (num, dim)).astype(np.float32)
    else:
        centres = rng.normal(size=(num_ids, dim))
        feats = (centres[pids] + rng.normal(size=(num, dim))).astype(
            np.float32)
    samples = []
    for i in range(num):
        sample = dict(
            pred_feature=torch.from_numpy(feats[i]),
            gt_label=torch.tensor([int(pids[i])]),
            camera_id=int(cams[i]),
            is_query=i < num_query)
        if with_idx:
            sample['sample_idx'] = i
        samples.append(sample)
    return samples


def split_arrays(samples):
    query = [s for s in samples if s['is_query']]
    gallery = [s for s in samples if not s['is_query']]

    def arrays(part):
        return (torch.stack([s['pred_feature'] for s in part]),
                np.array([int(s['gt_label'][0]) for s in part]),
                np.array([s['camera_id'] for s in part]))

    return arrays(query), arrays(gallery)


def run_metric(metric, samples, batch_size=16):
    for start in range(0, len(samples), batch_size):
        metric.process(None, samples[start:start + batch_size])
    return metric.evaluate(len(metric.results))


def test_matches_reference_and_is_registered():
    samples = make_samples(levels=3)
    (qf, qp, qc), (gf, gp, gc) = split_arrays(samples)
    distmat = ((qf.double()[:, None] - gf.double()[None])**2).sum(-1)
    cmc, mean_ap, mean_inp = reference_rank(distmat.numpy(), qp, gp, qc, gc,
                                            10)
    metric = METRICS.build(dict(type='ReIDMetric', topk=(1, 5, 10)))
    assert isinstance(metric, ReIDMetric)
    result = run_metric(metric, samples)
    assert set(result) == {
        'reid/rank1', 'reid/rank5', 'reid/rank10', 'reid/mAP', 'reid/mINP'
    }
    # First, so that CheckpointHook(save_best='auto') keeps the best mAP.
    assert next(iter(result)) == 'reid/mAP'
    assert result['reid/rank1'] == pytest.approx(cmc[0], abs=1e-6)
    assert result['reid/rank5'] == pytest.approx(cmc[4], abs=1e-6)
    assert result['reid/rank10'] == pytest.approx(cmc[9], abs=1e-6)
    assert result['reid/mAP'] == pytest.approx(mean_ap, abs=1e-6)
    assert result['reid/mINP'] == pytest.approx(mean_inp, abs=1e-6)
    assert all(0 <= v <= 1 for v in result.values())


def test_data_samples_through_the_evaluator():
    samples = make_samples(seed=1)
    data_samples = []
    for s in samples:
        sample = DataSample().set_gt_label(s['gt_label'])
        sample.set_field(s['pred_feature'], 'pred_feature', field_type='data')
        sample.set_metainfo(
            dict(
                camera_id=s['camera_id'],
                is_query=s['is_query'],
                sample_idx=s['sample_idx']))
        data_samples.append(sample)
    evaluator = Evaluator(dict(type='mmattn.ReIDMetric', metric='mAP'))
    for start in range(0, len(data_samples), 32):
        evaluator.process(data_samples[start:start + 32])
    via_evaluator = evaluator.evaluate(len(data_samples))
    direct = run_metric(ReIDMetric(metric='mAP'), samples)
    assert via_evaluator == direct
    assert set(direct) == {'reid/mAP'}


@pytest.mark.parametrize('protocol', ['market1501', 'cuhk03_single_shot'])
def test_result_depends_only_on_the_set_of_records(protocol):
    # Integer features: many exact ties, broken by dataset order.
    samples = make_samples(seed=2, levels=3)
    expected = run_metric(ReIDMetric(protocol=protocol), samples)
    for seed in range(3):
        shuffled = samples[:]
        random.Random(seed).shuffle(shuffled)
        assert run_metric(ReIDMetric(protocol=protocol), shuffled) == expected
    # Without sample_idx, continuous features (no ties) still give the same
    # result in any order.
    plain = make_samples(seed=3, with_idx=False)
    expected = run_metric(ReIDMetric(), plain)
    shuffled = plain[::-1]
    result = run_metric(ReIDMetric(), shuffled)
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-12)


def test_two_ranks_with_sampler_padding():
    """Emulate mmengine's distributed collection (interleave + truncate)."""
    samples = make_samples(seed=4)
    single = run_metric(ReIDMetric(), samples)
    world_size, size = 2, len(samples)
    # DefaultSampler(shuffle=False) pads to a multiple of the world size
    # and gives rank r the indices r, r + world_size, ...
    indices = list(range(size))
    indices += indices[:(-size) % world_size]
    assert len(indices) > size  # at least one padded duplicate
    parts = []
    for rank in range(world_size):
        metric = ReIDMetric()
        for i in indices[rank::world_size]:
            metric.process(None, [samples[i]])
        parts.append(metric.results)
    # collect_results: zip the per-rank lists, then drop the padding.
    gathered = [r for group in zip(*parts) for r in group][:size]
    assert ReIDMetric().compute_metrics(gathered) == {
        key.split('/')[1]: value
        for key, value in single.items()
    }


def test_single_gallery_shot_protocol():
    samples = make_samples(seed=5, num_ids=6)
    market = run_metric(ReIDMetric(), samples)
    runs = [
        run_metric(
            ReIDMetric(protocol='cuhk03_single_shot', sgs_repeats=5, seed=s),
            samples) for s in (0, 0, 1)
    ]
    assert runs[0] == runs[1]
    assert runs[0]['reid/mAP'] == market['reid/mAP']
    assert runs[0]['reid/mINP'] == market['reid/mINP']
    # One image per identity: 7 gallery identities (6 + distractors), so
    # the drawn match is always within the top 7 (but unlike the Market
    # protocol only one random match competes).
    assert runs[0]['reid/rank10'] == 1.0
    assert runs[0]['reid/rank1'] < 1.0
    assert runs[0]['reid/rank1'] != runs[2]['reid/rank1'] or \
        runs[0]['reid/rank5'] != runs[2]['reid/rank5']


def test_rerank_and_cosine_follow_the_functions():
    samples = make_samples(seed=6)
    (qf, qp, qc), (gf, gp, gc) = split_arrays(samples)
    labels = [torch.from_numpy(a) for a in (qp, gp, qc, gc)]

    expected = evaluate_rank(
        k_reciprocal_rerank(qf, gf, k1=8, k2=3, lambda_value=0.2),
        *labels,
        max_rank=5)
    result = run_metric(
        ReIDMetric(topk=(1, 5), rerank=True, k1=8, k2=3, lambda_value=0.2),
        samples)
    assert result['reid/mAP'] == pytest.approx(expected['mAP'], abs=1e-9)
    assert result['reid/rank5'] == pytest.approx(float(expected['cmc'][4]))

    expected = evaluate_rank(
        pairwise_distance(qf, gf, 'cosine'), *labels, max_rank=1)
    result = run_metric(ReIDMetric(topk=1, distance='cosine'), samples)
    assert result['reid/rank1'] == pytest.approx(float(expected['cmc'][0]))
    assert result['reid/mAP'] == pytest.approx(expected['mAP'], abs=1e-6)


def test_errors():
    samples = make_samples(seed=7)
    with pytest.raises(ValueError, match='no query samples'):
        run_metric(ReIDMetric(), [s for s in samples if not s['is_query']])
    with pytest.raises(ValueError, match='no gallery samples'):
        run_metric(ReIDMetric(), [s for s in samples if s['is_query']])
    # Every gallery image of the query's identity shares its camera.
    lonely = [
        dict(
            pred_feature=torch.rand(4),
            gt_label=torch.tensor([1]),
            camera_id=0,
            is_query=True),
        dict(
            pred_feature=torch.rand(4),
            gt_label=torch.tensor([1]),
            camera_id=0,
            is_query=False),
        dict(
            pred_feature=torch.rand(4),
            gt_label=torch.tensor([2]),
            camera_id=1,
            is_query=False),
    ]
    with pytest.raises(ValueError, match='no query has a valid gallery'):
        run_metric(ReIDMetric(), lonely)
    with pytest.raises(KeyError, match='camera_id'):
        ReIDMetric().process(
            None,
            [dict(pred_feature=torch.rand(4), gt_label=1, is_query=True)])
    with pytest.raises(ValueError, match='protocol'):
        ReIDMetric(protocol='duke')
    with pytest.raises(ValueError, match='metric'):
        ReIDMetric(metric=('cmc', 'ndcg'))
    with pytest.raises(ValueError, match='topk'):
        ReIDMetric(topk=(0, 5))
    with pytest.raises(ValueError, match='distance'):
        ReIDMetric(distance='manhattan')
    with pytest.raises(ValueError, match='lambda_value'):
        ReIDMetric(lambda_value=2.0)
    with pytest.raises(ValueError, match='ranking_threads'):
        ReIDMetric(ranking_threads=0)
