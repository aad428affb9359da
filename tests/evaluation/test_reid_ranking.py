import itertools

import numpy as np
import pytest
import torch

from mmattn.evaluation.functional import (evaluate_rank,
                                          evaluate_rank_from_features,
                                          k_reciprocal_rerank,
                                          pairwise_distance)

# --------------------------------------------------------------------------
# Plain references, written from the definitions (loops, numpy).
# --------------------------------------------------------------------------


def reference_rank(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """Per-query loop: stable argsort, drop same id + same cam, score."""
    cmc, aps, inps = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        keep = ~((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        rel = (g_pids[order][keep] == q_pids[i]).astype(np.float64)
        if rel.sum() == 0:
            continue
        hits = np.cumsum(rel)
        cmc.append((hits[:max_rank] > 0).astype(np.float64))
        if len(cmc[-1]) < max_rank:  # gallery shorter than max_rank
            cmc[-1] = np.pad(
                cmc[-1], (0, max_rank - len(cmc[-1])), constant_values=1.0)
        precision = hits / np.arange(1, len(rel) + 1)
        aps.append((precision * rel).sum() / rel.sum())
        hardest = np.flatnonzero(rel)[-1] + 1
        inps.append(rel.sum() / hardest)
    return (np.mean(cmc, axis=0), np.mean(aps), np.mean(inps),
            len(q_pids) - len(aps))


def reference_rerank(q, g, k1, k2, lam):
    """The k-reciprocal re-ranking of Zhong et al. 2017, step by step."""
    x = np.concatenate([q, g])
    n, nq = len(x), len(q)
    d = ((x[:, None] - x[None])**2).sum(-1)
    d = d / d.max(1, keepdims=True)
    rank = np.argsort(d, axis=1, kind='stable')

    def reciprocal(i, k):
        return [j for j in rank[i, :k + 1] if i in rank[j, :k + 1]]

    V = np.zeros((n, n))
    for i in range(n):
        R = reciprocal(i, k1)
        expanded = set(R)
        for c in R:
            Rc = reciprocal(c, int(round(k1 / 2)))
            if len(set(Rc) & set(R)) > 2 / 3 * len(Rc):
                expanded |= set(Rc)
        cols = sorted(expanded)
        w = np.exp(-d[i, cols])
        V[i, cols] = w / w.sum()
    if k2 > 1:
        V = np.stack([V[rank[i, :k2]].mean(0) for i in range(n)])
    jaccard = np.zeros((nq, n - nq))
    for i in range(nq):
        for j in range(n - nq):
            a, b = V[i], V[nq + j]
            jaccard[i, j] = 1 - np.minimum(a, b).sum() / np.maximum(a, b).sum()
    return (1 - lam) * jaccard + lam * d[:nq, nq:]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def make_split(seed,
               num_query=40,
               num_gallery=200,
               num_ids=15,
               num_cams=4,
               dim=6,
               levels=None,
               noise=1.5):
    """Random Re-ID split with distractors and queries without a match.

    With ``levels``, features are integers in [0, levels): many exact ties,
    and squared distances are exact in float32 and float64. Otherwise they
    are identity centres plus ``noise``-scaled Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    g_pids = rng.integers(0, num_ids, num_gallery)
    g_pids[:num_gallery // 8] = -1  # distractor identity
    g_cams = rng.integers(0, num_cams, num_gallery)
    q_pids = rng.integers(0, num_ids + 3, num_query)  # some ids not in gallery
    q_cams = rng.integers(0, num_cams, num_query)
    if levels:
        q = rng.integers(0, levels, (num_query, dim)).astype(np.float32)
        g = rng.integers(0, levels, (num_gallery, dim)).astype(np.float32)
    else:
        centres = rng.normal(size=(num_ids + 3, dim))
        q = centres[q_pids] + noise * rng.normal(size=(num_query, dim))
        g = centres[g_pids] + noise * rng.normal(size=(num_gallery, dim))
        q, g = q.astype(np.float32), g.astype(np.float32)
    return q, g, q_pids, g_pids, q_cams, g_cams


def to_torch(*arrays):
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]


def assert_matches_reference(result, ref, max_rank):
    cmc, mean_ap, mean_inp, skipped = ref
    np.testing.assert_allclose(
        result['cmc'].numpy(), cmc[:max_rank], atol=1e-6)
    assert result['mAP'] == pytest.approx(mean_ap, abs=1e-6)
    assert result['mINP'] == pytest.approx(mean_inp, abs=1e-6)
    assert result['num_skipped_queries'] == skipped


# --------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------


def test_hand_computed_example():
    # gallery index: 0     1     2     3     4     5
    g_pids = [1, 1, 2, 2, 3, 9]
    g_cams = [0, 1, 1, 0, 1, 2]
    q_pids, q_cams = [1, 2, 1], [0, 0, 2]
    distmat = torch.tensor([
        # g0 is junk; g1 ties with g2 and wins by index: match at 0.
        [0., 1., 1., 2., 5., 4.],
        # g3 is junk; order g1, g0, g2, g5, g4 (ties by index): match at 2.
        [2., 1., 2., 0., 3., 2.],
        # order g2, g0, g3, g5, g1, g4: matches at 1 and 4.
        [1., 4., 0., 2., 4., 3.],
    ])
    labels = to_torch(*map(np.array, (q_pids, g_pids, q_cams, g_cams)))
    for exact in (False, True):
        result = evaluate_rank(distmat, *labels, max_rank=5, exact=exact)
        np.testing.assert_allclose(result['cmc'].numpy(),
                                   [1 / 3, 2 / 3, 1, 1, 1])
        assert result['mAP'] == pytest.approx(
            (1 + 1 / 3 + (1 / 2 + 2 / 5) / 2) / 3)
        assert result['mINP'] == pytest.approx((1 + 1 / 3 + 2 / 5) / 3)
        assert result['num_valid_queries'] == 3
        assert result['num_skipped_queries'] == 0


@pytest.mark.parametrize('levels', [None, 3])
@pytest.mark.parametrize('seed', [0, 1])
def test_evaluate_rank_matches_reference(seed, levels):
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(seed, levels=levels)
    distmat = pairwise_distance(*to_torch(q, g))
    ref = reference_rank(distmat.numpy(), q_pids, g_pids, q_cams, g_cams, 20)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    assert ref[3] > 0  # some queries have no valid match
    for chunk_size in (None, 7):
        for exact in (False, True):
            result = evaluate_rank(
                distmat,
                *labels,
                max_rank=20,
                chunk_size=chunk_size,
                exact=exact)
            assert_matches_reference(result, ref, 20)


def test_fast_path_alone_matches_reference(monkeypatch):
    # Continuous features have no match / non-match ties, so the histogram
    # pass must get every rank right without the stable-sort fallback; both
    # the compacted (hardest match ranks early) and the whole-row binning
    # are exercised at this size.
    from mmattn.evaluation.functional import reid_ranking

    def no_fallback(*args):
        raise AssertionError('unexpected stable-sort fallback')

    monkeypatch.setattr(reid_ranking, '_exact_ranks', no_fallback)
    for seed, noise in ((0, 1.5), (1, 0.4), (2, 0.7)):
        q, g, q_pids, g_pids, q_cams, g_cams = make_split(seed, noise=noise)
        distmat = pairwise_distance(*to_torch(q, g))
        ref = reference_rank(distmat.numpy(), q_pids, g_pids, q_cams, g_cams,
                             20)
        result = evaluate_rank(
            distmat,
            *to_torch(q_pids, g_pids, q_cams, g_cams),
            max_rank=20,
            chunk_size=16)
        assert_matches_reference(result, ref, 20)


def test_ties_between_matches_and_others_are_broken_by_gallery_index():
    # Integer distances in {0, 1, 2}: nearly every match is tied.
    rng = np.random.default_rng(3)
    distmat = rng.integers(0, 3, (30, 80)).astype(np.float32)
    g_pids, g_cams = rng.integers(0, 6, 80), rng.integers(0, 3, 80)
    q_pids, q_cams = rng.integers(0, 6, 30), rng.integers(0, 3, 30)
    ref = reference_rank(distmat, q_pids, g_pids, q_cams, g_cams, 10)
    result = evaluate_rank(
        torch.from_numpy(distmat),
        *to_torch(q_pids, g_pids, q_cams, g_cams),
        max_rank=10)
    assert_matches_reference(result, ref, 10)
    # Reversing the gallery changes the tie order, and the reference agrees.
    rev = distmat[:, ::-1]
    ref_rev = reference_rank(rev, q_pids, g_pids[::-1], q_cams, g_cams[::-1],
                             10)
    result_rev = evaluate_rank(
        torch.from_numpy(rev.copy()),
        *to_torch(q_pids, g_pids[::-1], q_cams, g_cams[::-1]),
        max_rank=10)
    assert_matches_reference(result_rev, ref_rev, 10)
    assert ref_rev[1] != pytest.approx(ref[1])


@pytest.mark.parametrize('metric', ['euclidean', 'cosine'])
def test_features_path_matches_distance_path(metric):
    # Integer features: the chunked distances equal the full matrix exactly.
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(5, levels=4)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    qt, gt = to_torch(q, g)
    if metric == 'euclidean':
        ref_dist = ((q[:, None].astype(np.float64) - g[None])**2).sum(-1)
        np.testing.assert_array_equal(
            pairwise_distance(qt, gt).numpy(), ref_dist)
    else:
        qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        gn = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
        ref_dist = 1 - qn @ gn.T
        np.testing.assert_allclose(
            pairwise_distance(qt, gt, 'cosine').numpy(), ref_dist, atol=1e-5)
    full = evaluate_rank(
        pairwise_distance(qt, gt, metric), *labels, max_rank=10)
    chunked = evaluate_rank_from_features(
        qt, gt, *labels, metric=metric, max_rank=10, chunk_size=9)
    np.testing.assert_array_equal(full['cmc'].numpy(), chunked['cmc'].numpy())
    assert full['mAP'] == pytest.approx(chunked['mAP'], abs=1e-12)
    assert full['mINP'] == pytest.approx(chunked['mINP'], abs=1e-12)
    if metric == 'euclidean':
        ref = reference_rank(ref_dist, q_pids, g_pids, q_cams, g_cams, 10)
        assert_matches_reference(chunked, ref, 10)


def test_max_rank_longer_than_gallery():
    distmat = torch.tensor([[0.3, 0.1, 0.2]])
    result = evaluate_rank(
        distmat,
        torch.tensor([1]),
        torch.tensor([1, 0, 2]),
        torch.tensor([0]),
        torch.tensor([1, 1, 1]),
        max_rank=5)
    np.testing.assert_allclose(result['cmc'].numpy(), [0, 0, 1, 1, 1])
    assert result['mAP'] == pytest.approx(1 / 3)


def test_errors():
    labels = [
        torch.tensor([0]),
        torch.tensor([0, 1]),
        torch.tensor([0]),
        torch.tensor([1, 0])
    ]
    none = torch.zeros(0, dtype=torch.long)
    with pytest.raises(ValueError, match='query set is empty'):
        evaluate_rank(torch.zeros(0, 2), none, labels[1], none, labels[3])
    with pytest.raises(ValueError, match='gallery set is empty'):
        evaluate_rank_from_features(
            torch.zeros(1, 4), torch.zeros(0, 4), labels[0], none, labels[2],
            none)
    # The only same-identity gallery image shares the query's camera.
    with pytest.raises(ValueError, match='no query has a valid gallery'):
        evaluate_rank(
            torch.rand(1, 2), torch.tensor([0]), torch.tensor([0, 1]),
            torch.tensor([1]), torch.tensor([1, 0]))
    with pytest.raises(ValueError, match='query_pids has 2 entries'):
        evaluate_rank(torch.rand(1, 2), torch.tensor([0, 1]), *labels[1:])
    with pytest.raises(ValueError, match='NaN'):
        evaluate_rank_from_features(
            torch.full((1, 2), float('nan')), torch.zeros(2, 2), *labels)
    with pytest.raises(ValueError, match='distance metric'):
        pairwise_distance(torch.zeros(1, 2), torch.zeros(1, 2), 'l1')


# --------------------------------------------------------------------------
# CUHK03 single-gallery-shot CMC
# --------------------------------------------------------------------------


def expected_single_shot_cmc(distmat, q_pids, g_pids, q_cams, g_cams,
                             max_rank):
    """Exact expectation over all draws (one image per identity)."""
    ids = sorted(set(g_pids.tolist()))
    curves = []
    for i in range(len(q_pids)):
        options = []
        for pid in ids:
            cols = [
                j for j in range(len(g_pids)) if g_pids[j] == pid
                and not (pid == q_pids[i] and g_cams[j] == q_cams[i])
            ]
            options.append((pid, cols))
        if q_pids[i] not in ids or not dict(options)[q_pids[i]]:
            continue
        curve, combos = np.zeros(max_rank), 0
        for draw in itertools.product(*[cols for _, cols in options]):
            order = sorted(draw, key=lambda j: (distmat[i, j], j))
            pos = [g_pids[j] for j in order].index(q_pids[i])
            curve += pos < np.arange(1, max_rank + 1)
            combos += 1
        curves.append(curve / combos)
    return np.mean(curves, axis=0)


def test_single_shot_converges_to_exact_expectation():
    rng = np.random.default_rng(0)
    g_pids = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    g_cams = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0])
    q_pids, q_cams = np.array([0, 1, 2, 3]), np.array([0, 0, 1, 0])
    distmat = rng.integers(0, 4, (4, 9)).astype(np.float64)  # with ties
    expected = expected_single_shot_cmc(distmat, q_pids, g_pids, q_cams,
                                        g_cams, 4)
    result = evaluate_rank(
        torch.from_numpy(distmat),
        *to_torch(q_pids, g_pids, q_cams, g_cams),
        max_rank=4,
        single_shot_repeats=3000,
        seed=1)
    np.testing.assert_allclose(
        result['single_shot_cmc'].numpy(), expected, atol=0.03)
    # Query 3 (identity 3) has no valid match and is skipped.
    assert result['num_skipped_queries'] == 1


def test_single_shot_with_one_image_per_identity_equals_cmc():
    q, g, q_pids, _, q_cams, _ = make_split(2, num_query=20, num_ids=15)
    g = g[:15]
    g_pids, g_cams = np.arange(15), np.full(15, 9)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    result = evaluate_rank_from_features(
        *to_torch(q, g), *labels, max_rank=10, single_shot_repeats=4)
    np.testing.assert_array_equal(result['single_shot_cmc'].numpy(),
                                  result['cmc'].numpy())


def test_single_shot_is_deterministic_under_seed():
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(4, num_ids=6)
    args = (*to_torch(q, g), *to_torch(q_pids, g_pids, q_cams, g_cams))
    runs = [
        evaluate_rank_from_features(
            *args, max_rank=5, single_shot_repeats=3, seed=s)
        for s in (7, 7, 8)
    ]
    np.testing.assert_array_equal(runs[0]['single_shot_cmc'].numpy(),
                                  runs[1]['single_shot_cmc'].numpy())
    assert not torch.equal(runs[0]['single_shot_cmc'],
                           runs[2]['single_shot_cmc'])
    # mAP / mINP follow the standard protocol and ignore the draws.
    assert runs[0]['mAP'] == runs[2]['mAP']


# --------------------------------------------------------------------------
# k-reciprocal re-ranking
# --------------------------------------------------------------------------


@pytest.mark.parametrize('k1,k2,lam', [(6, 3, 0.3), (4, 1, 0.5), (20, 6, 0.3)])
def test_rerank_matches_reference(k1, k2, lam):
    rng = np.random.default_rng(k1)
    centres = rng.normal(size=(5, 8))
    q = centres[rng.integers(0, 5, 7)] + 0.6 * rng.normal(size=(7, 8))
    g = centres[rng.integers(0, 5, 18)] + 0.6 * rng.normal(size=(18, 8))
    ref = reference_rerank(q, g, k1, k2, lam)
    out = k_reciprocal_rerank(
        *to_torch(q, g), k1=k1, k2=k2, lambda_value=lam, chunk_size=4)
    assert out.shape == (7, 18)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-6)


def test_rerank_with_tied_distances_matches_reference():
    # Integer features: exact, heavily tied distances; neighbour lists must
    # follow the stable (distance, index) order like np.argsort.
    rng = np.random.default_rng(0)
    q = rng.integers(0, 3, (6, 3)).astype(np.float64)
    g = rng.integers(0, 3, (20, 3)).astype(np.float64)
    ref = reference_rerank(q, g, 5, 3, 0.3)
    out = k_reciprocal_rerank(*to_torch(q, g), k1=5, k2=3, chunk_size=8)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-6)


def test_rerank_lambda_one_is_normalised_distance():
    rng = np.random.default_rng(0)
    q, g = rng.normal(size=(5, 4)), rng.normal(size=(9, 4))
    x = np.concatenate([q, g])
    d = ((x[:, None] - x[None])**2).sum(-1)
    d = d / d.max(1, keepdims=True)
    out = k_reciprocal_rerank(*to_torch(q, g), k1=4, k2=2, lambda_value=1.0)
    np.testing.assert_allclose(out.numpy(), d[:5, 5:], atol=1e-9)


def test_rerank_helps_on_clustered_data():
    # Tight identities seen by several cameras, plus a camera bias that
    # makes single distances misleading: neighbourhoods recover the ids.
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(
        11, num_query=30, num_gallery=150, num_ids=10, dim=16)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    qt, gt = to_torch(q, g)
    plain = evaluate_rank(pairwise_distance(qt, gt), *labels, max_rank=5)
    reranked_dist = k_reciprocal_rerank(qt, gt, k1=10, k2=3)
    assert float(reranked_dist.min()) >= 0
    assert float(reranked_dist.max()) <= 1 + 1e-6
    reranked = evaluate_rank(reranked_dist, *labels, max_rank=5)
    assert reranked['mAP'] > plain['mAP']


def test_rerank_errors():
    q, g = torch.rand(2, 3), torch.rand(4, 3)
    with pytest.raises(ValueError, match='k1'):
        k_reciprocal_rerank(q, g, k1=0)
    with pytest.raises(ValueError, match='lambda_value'):
        k_reciprocal_rerank(q, g, lambda_value=1.5)


# --------------------------------------------------------------------------
# The optimised binning and the thread switch
# --------------------------------------------------------------------------


def test_dense_bins_equal_searchsorted():
    # Bucketed binning must equal a binary search for every distance,
    # including distances equal to a threshold, below the first or above
    # the last one, inf padding, duplicated and 1-ulp-apart thresholds and
    # a row whose whole range is one ulp.
    from mmattn.evaluation.functional.reid_ranking import _dense_bins

    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        rows, cols, width = 6, 3000, 9
        match = torch.sort(
            torch.rand(rows, width, generator=gen, dtype=dtype), 1).values
        match[1, 3:5] = match[1, 2]  # tied matches
        match[2, 6:] = float('inf')  # padding of a row with fewer matches
        match[3] = 0.5  # one distinct value only: the range is one ulp
        inf = torch.tensor(float('inf'), dtype=dtype)
        nxt = torch.nextafter(match, inf)
        thresholds = torch.sort(torch.cat([match, nxt], 1), 1).values
        finite = torch.where(torch.isfinite(thresholds), thresholds, -inf)
        lo, hi = thresholds[:, 0], finite.amax(1)
        dist = torch.rand(rows, cols, generator=gen, dtype=dtype) * 1.4 - .2
        # Plant exact threshold values, their neighbours and the bounds.
        picks = torch.randint(0, 2 * width, (rows, 200), generator=gen)
        planted = thresholds.gather(1, picks)
        planted = torch.where(torch.isfinite(planted), planted, lo[:, None])
        dist[:, :200] = planted
        dist[:, 200:400] = torch.nextafter(planted, -inf)
        dist[:, 400] = lo
        dist[:, 401] = hi
        dist[:, 402] = torch.nextafter(hi, inf)
        expected = torch.searchsorted(thresholds, dist, right=True)
        torch.testing.assert_close(
            _dense_bins(dist, thresholds, lo, hi), expected, rtol=0, atol=0)


@pytest.mark.parametrize('noise', [0.5, 3.0])
def test_sparse_dense_and_mixed_chunks_match_reference(noise, monkeypatch):
    # Hard retrieval (large noise) makes many rows dense (the hardest match
    # ranks late), easy retrieval makes them sparse; chunk sizes give
    # chunks of one kind and mixed ones. Float64 features: the GEMM
    # distances order like the reference's.
    from mmattn.evaluation.functional import reid_ranking
    dense_rows = []
    dense_bins = reid_ranking._dense_bins

    def spy(dist, *args):
        dense_rows.append(dist.size(0))
        return dense_bins(dist, *args)

    monkeypatch.setattr(reid_ranking, '_dense_bins', spy)
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(
        7, num_query=60, num_gallery=400, num_ids=12, dim=5, noise=noise)
    q, g = q.astype(np.float64), g.astype(np.float64)
    ref_dist = ((q[:, None] - g[None])**2).sum(-1)
    ref = reference_rank(ref_dist, q_pids, g_pids, q_cams, g_cams, 20)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    for chunk_size in (None, 1, 5):
        result = evaluate_rank_from_features(
            *to_torch(q, g), *labels, max_rank=20, chunk_size=chunk_size)
        assert_matches_reference(result, ref, 20)
    # Both kinds of rows occur (three runs of 60 queries each).
    assert dense_rows, 'no dense row: _dense_bins went untested'
    assert sum(dense_rows) < 3 * 60, 'no sparse row'


def test_ranking_threads_restore_the_setting_and_change_nothing():
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(2, levels=4)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    before = torch.get_num_threads()
    runs = [
        evaluate_rank_from_features(
            *to_torch(q, g), *labels, max_rank=10, ranking_threads=threads)
        for threads in (1, None, 2)
    ]
    assert torch.get_num_threads() == before
    for run in runs[1:]:
        np.testing.assert_array_equal(run['cmc'].numpy(),
                                      runs[0]['cmc'].numpy())
        assert run['mAP'] == runs[0]['mAP'] and run['mINP'] == runs[0]['mINP']
    with pytest.raises(ValueError, match='ranking_threads'):
        evaluate_rank_from_features(
            *to_torch(q, g), *labels, ranking_threads=0)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_optimised_path_equals_reference_on_random_data(seed):
    # The path ReIDMetric takes (chunked augmented GEMM, bucketed / packed
    # binning, one ranking thread) against the plain definitions: the
    # Market-1501 protocol, k-reciprocal re-ranking and the CUHK03
    # single-gallery-shot CMC.
    q, g, q_pids, g_pids, q_cams, g_cams = make_split(
        seed,
        num_query=30,
        num_gallery=150,
        num_ids=10,
        dim=6,
        noise=0.5 + seed)
    q, g = q.astype(np.float64), g.astype(np.float64)
    labels = to_torch(q_pids, g_pids, q_cams, g_cams)
    ref_dist = ((q[:, None] - g[None])**2).sum(-1)
    ref = reference_rank(ref_dist, q_pids, g_pids, q_cams, g_cams, 10)
    result = evaluate_rank_from_features(*to_torch(q, g), *labels, max_rank=10)
    assert_matches_reference(result, ref, 10)

    reranked = k_reciprocal_rerank(
        *to_torch(q, g), k1=8, k2=3, lambda_value=0.3)
    ref_reranked = reference_rerank(q, g, 8, 3, 0.3)
    np.testing.assert_allclose(reranked.numpy(), ref_reranked, atol=1e-9)
    assert_matches_reference(
        evaluate_rank(reranked, *labels, max_rank=10),
        reference_rank(ref_reranked, q_pids, g_pids, q_cams, g_cams, 10), 10)

    # Integer features: exact, heavily tied distances in every path; the
    # draws of the single-gallery shot are the same for the same seed.
    q, g, *_ = make_split(
        seed, num_query=30, num_gallery=150, num_ids=10, dim=4, levels=3)
    ref_dist = ((q[:, None].astype(np.float64) - g[None])**2).sum(-1)
    options = dict(max_rank=10, single_shot_repeats=4, seed=seed)
    fast = evaluate_rank_from_features(*to_torch(q, g), *labels, **options)
    plain = evaluate_rank(
        torch.from_numpy(ref_dist), *labels, exact=True, **options)
    assert_matches_reference(
        fast, reference_rank(ref_dist, q_pids, g_pids, q_cams, g_cams, 10), 10)
    np.testing.assert_array_equal(fast['single_shot_cmc'].numpy(),
                                  plain['single_shot_cmc'].numpy())
