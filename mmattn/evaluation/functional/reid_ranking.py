"""Re-ID retrieval evaluation as pure tensor functions.

Everything here works on tensors (CPU or CUDA) and follows one ordering rule:
the gallery seen by a query is sorted by ``(distance, gallery index)``, i.e.
a stable sort by distance, after which the gallery images with the query's
identity *and* camera are removed (the Market-1501 protocol). Every metric is
a function of the positions of the true matches in that order.

Ranking avoids sorting the whole (Q, G) distance matrix. Per query only the
few true matches are sorted; every other gallery image is binned by a
``searchsorted`` against the sorted match distances, and a per-query histogram
of the bins gives how many valid images precede each match. That is one pass
over the matrix, done on chunks of queries so memory stays bounded. Ties
between a match and an image of another identity are detected exactly (via
``nextafter``); the few queries that have one are ranked with a stable sort,
so the result always equals the plain definition.
"""
from typing import Callable, Dict, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

DISTANCE_METRICS = ('euclidean', 'cosine')

#: Elements of one (queries x gallery) distance chunk; bounds memory.
_CHUNK_ELEMENTS = 1 << 23


def _check_features(feats: Tensor, name: str) -> None:
    if not isinstance(feats, Tensor) or feats.dim() != 2:
        raise TypeError(f'{name} must be a 2-D tensor (N, D), got '
                        f'{type(feats).__name__} of shape '
                        f'{getattr(feats, "shape", None)}')
    if not feats.is_floating_point():
        raise TypeError(f'{name} must be a floating point tensor, got '
                        f'{feats.dtype}')
    if feats.numel() and not _all_finite(feats):
        raise ValueError(f'{name} contains NaN or infinite values')


def _check_metric(metric: str) -> None:
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'distance metric must be one of {DISTANCE_METRICS}'
                         f', got {metric!r}')


def _sq_euclidean(query: Tensor,
                  gallery: Tensor,
                  gallery_sq: Tensor,
                  out: Optional[Tensor] = None) -> Tensor:
    # |q|^2 + |g|^2 - 2 q.g: a single GEMM, never the (Q, G, D) differences.
    dist = torch.addmm(
        gallery_sq.unsqueeze(0), query, gallery.t(), alpha=-2, out=out)
    return dist.add_(query.pow(2).sum(1, keepdim=True))


def _cosine(query_n: Tensor,
            gallery_n: Tensor,
            out: Optional[Tensor] = None) -> Tensor:
    return torch.mm(query_n, gallery_n.t(), out=out).neg_().add_(1)


def _all_finite(values: Tensor) -> bool:
    # One reduction pass; NaN propagates through min / max.
    low, high = torch.aminmax(values)
    return bool(torch.isfinite(low) & torch.isfinite(high))


def pairwise_distance(query: Tensor,
                      gallery: Tensor,
                      metric: str = 'euclidean') -> Tensor:
    """Distances between query and gallery features.

    Args:
        query (Tensor): Query features (Q, D).
        gallery (Tensor): Gallery features (G, D).
        metric (str): ``'euclidean'`` (squared Euclidean distance) or
            ``'cosine'`` (``1 - cos``, features are L2-normalised first).

    Returns:
        Tensor: Distances (Q, G), same dtype and device as the features.
    """
    _check_metric(metric)
    _check_features(query, 'query')
    _check_features(gallery, 'gallery')
    if query.size(1) != gallery.size(1):
        raise ValueError(f'query features have dimension {query.size(1)} but '
                         f'gallery features have {gallery.size(1)}')
    if metric == 'cosine':
        return _cosine(F.normalize(query, dim=1), F.normalize(gallery, dim=1))
    return _sq_euclidean(query, gallery, gallery.pow(2).sum(1))


class _GalleryIdentities(NamedTuple):
    """The gallery grouped by identity (built once per evaluation).

    ``order`` lists gallery indices sorted by (pid, index), so the images of
    ``ids[u]`` are ``order[starts[u]:starts[u] + counts[u]]`` in index order.
    """
    order: Tensor
    ids: Tensor
    starts: Tensor
    counts: Tensor


def _group_gallery(gallery_pids: Tensor) -> _GalleryIdentities:
    order = torch.argsort(gallery_pids, stable=True)
    ids, counts = torch.unique_consecutive(
        gallery_pids[order], return_counts=True)
    return _GalleryIdentities(order, ids, counts.cumsum(0) - counts, counts)


def _check_labels(query_pids, gallery_pids, query_cams, gallery_cams,
                  num_query: int, num_gallery: int) -> None:
    if num_query == 0:
        raise ValueError('the query set is empty: Re-ID evaluation needs at '
                         'least one query (is_query=True) sample')
    if num_gallery == 0:
        raise ValueError('the gallery set is empty: Re-ID evaluation needs '
                         'at least one gallery (is_query=False) sample')
    for name, labels, size in (('query_pids', query_pids, num_query),
                               ('gallery_pids', gallery_pids, num_gallery),
                               ('query_cams', query_cams, num_query),
                               ('gallery_cams', gallery_cams, num_gallery)):
        if not isinstance(labels, Tensor) or labels.dim() != 1:
            raise TypeError(f'{name} must be a 1-D tensor, got '
                            f'{type(labels).__name__}')
        if labels.is_floating_point() or labels.dtype == torch.bool:
            raise TypeError(f'{name} must be an integer tensor, got '
                            f'{labels.dtype}')
        if labels.numel() != size:
            raise ValueError(f'{name} has {labels.numel()} entries, expected '
                             f'{size} (one per feature / distance row)')


class _SameIdentityBlock(NamedTuple):
    """Per query of a chunk, the gallery images of its identity (C, P).

    ``cols`` are gallery indices in index order; entries past the identity's
    image count are padding (``in_block`` False). ``is_match`` marks the
    valid true matches (another camera), the rest of the block is junk.
    ``id_pos`` is the query identity's index in the gallery identities
    (meaningless for identities absent from the gallery).
    """
    cols: Tensor
    in_block: Tensor
    is_match: Tensor
    id_pos: Tensor


def _same_identity_block(gal: _GalleryIdentities, q_pids: Tensor,
                         q_cams: Tensor,
                         gallery_cams: Tensor) -> _SameIdentityBlock:
    num_ids = gal.ids.numel()
    id_pos = torch.searchsorted(gal.ids, q_pids).clamp_max_(num_ids - 1)
    has_id = gal.ids[id_pos] == q_pids
    count = torch.where(has_id, gal.counts[id_pos], 0)
    width = max(int(count.max()), 1)
    slots = torch.arange(width, device=q_pids.device)
    in_block = slots < count.unsqueeze(1)
    flat = (gal.starts[id_pos].unsqueeze(1) + slots).clamp_max_(
        gal.order.numel() - 1)
    cols = gal.order[flat]
    is_match = in_block & (gallery_cams[cols] != q_cams.unsqueeze(1))
    return _SameIdentityBlock(cols, in_block, is_match, id_pos)


def _exact_ranks(dist: Tensor, junk_rows: Tensor, junk_cols: Tensor,
                 match_cols: Tensor) -> Tensor:
    """Ranks by a full stable sort (rows with match/non-match ties)."""
    order = torch.sort(dist, dim=1, stable=True).indices
    valid = torch.ones_like(dist, dtype=torch.bool)
    valid[junk_rows, junk_cols] = False
    position = valid.gather(1, order).long().cumsum_(1).sub_(1)
    rank_of_col = torch.empty_like(position).scatter_(1, order, position)
    return rank_of_col.gather(1, match_cols)


def _threshold_histogram(dist: Tensor,
                         thresholds: Tensor,
                         limit: Tensor,
                         bins_out: Optional[Tensor] = None) -> Tensor:
    """Per row, how many distances fall in each threshold bin.

    Bin ``b`` of a distance ``x`` is ``#{thresholds <= x}``; the result
    (C, T + 1) counts every ``x < limit`` (rows' ``limit`` is a threshold,
    so the bins of larger ``x`` are never read). Rows with few such
    distances (the usual case: the hardest match ranks early) are compacted
    before the searchsorted; the others are binned whole.
    """
    num_rows, num_cols = dist.shape
    hist = torch.zeros(num_rows, thresholds.size(1) + 1, dtype=torch.long,
                       device=dist.device)
    below = dist < limit.unsqueeze(1)
    counts = below.view(torch.uint8).sum(1, dtype=torch.int32).long()
    sparse = counts <= max(num_cols // 8, 1)
    if bool(sparse.any()):
        all_sparse = bool(sparse.all())
        rows = sparse.nonzero().squeeze(1)
        # Row-major (row, col) of the kept distances of the sparse rows.
        if all_sparse:
            r, c = below.nonzero(as_tuple=True)
        else:
            r, c = below[rows].nonzero(as_tuple=True)
            r = rows[r]
        # Rows of the packed matrix and the slot of each kept distance.
        packed_row = torch.cumsum(sparse, 0).sub_(1)[r]
        row_counts = counts[rows]
        first = row_counts.cumsum(0) - row_counts
        slot = torch.arange(r.numel(), device=dist.device) - first[packed_row]
        packed = torch.full((rows.numel(), max(int(row_counts.max()), 1)),
                            float('inf'), dtype=dist.dtype,
                            device=dist.device)
        packed[packed_row, slot] = dist[r, c]
        bins = torch.searchsorted(thresholds[rows], packed, right=True)
        part = hist if all_sparse else torch.zeros_like(hist[rows])
        part.scatter_add_(1, bins,
                          torch.ones_like(part[:1, :1]).expand_as(bins))
        if all_sparse:
            return hist
        hist[rows] = part
    rows = (~sparse).nonzero().squeeze(1)
    if rows.numel() == num_rows:
        bins = torch.searchsorted(thresholds, dist, right=True, out=bins_out)
    else:
        bins = torch.searchsorted(thresholds[rows], dist[rows], right=True)
    part = torch.zeros_like(hist[rows])
    part.scatter_add_(1, bins, torch.ones_like(part[:1, :1]).expand_as(bins))
    hist[rows] = part
    return hist


def _match_ranks(dist: Tensor,
                 block: _SameIdentityBlock,
                 exact: bool = False,
                 bins_out: Optional[Tensor] = None):
    """Positions of the true matches among the valid gallery of each query.

    Args:
        dist (Tensor): Distances of a chunk of queries (C, G).
        block (_SameIdentityBlock): Their same-identity gallery images.
        exact (bool): Rank every row by a full stable sort (for testing).
        bins_out (Tensor, optional): Reused int64 (C, G) workspace; fresh
            large allocations page-fault on every chunk.

    Returns:
        tuple: ``ranks`` (C, P), 0-based positions of the matches sorted by
        (distance, gallery index), ascending; entries ``j >= num_matches``
        are meaningless. ``num_matches`` (C,). ``match_cols`` (C, P), the
        gallery indices of the sorted matches.
    """
    cols, in_block, is_match = block.cols, block.in_block, block.is_match
    inf = torch.tensor(float('inf'), dtype=dist.dtype, device=dist.device)
    block_dist = dist.gather(1, cols)
    # cols are in gallery-index order, so a stable sort is by (dist, index).
    match_dist, perm = torch.sort(
        torch.where(is_match, block_dist, inf), dim=1, stable=True)
    match_cols = cols.gather(1, perm)
    num_matches = is_match.sum(1)
    width = match_dist.size(1)
    slots = torch.arange(width, device=dist.device)
    real = slots < num_matches.unsqueeze(1)

    if exact:
        tied = torch.ones_like(num_matches, dtype=torch.bool)
        ranks = torch.zeros_like(match_cols)
    else:
        # Thresholds t_j and the next float above t_j: x < next(t_j) is
        # x <= t_j, so the bins also count exact ties with every match.
        match_next = torch.nextafter(match_dist, inf)
        thresholds = torch.sort(torch.cat([match_dist, match_next], 1),
                                dim=1).values
        # Images beyond the hardest match never precede a match: only the
        # ones below it are binned.
        last = (num_matches - 1).clamp_min(0).unsqueeze(1)
        limit = torch.where(num_matches > 0,
                            match_next.gather(1, last).squeeze(1), -inf)
        hist = _threshold_histogram(dist, thresholds, limit, bins_out)
        # Keep only images of other identities (all valid): the block's
        # own images (matches and junk) are taken out again.
        hist.scatter_add_(
            1, torch.searchsorted(thresholds, block_dist, right=True),
            -in_block.long())
        cum = hist.cumsum_(1)
        # With right-sided bins, #{x < v} = cum[#{thresholds < v}] for any
        # threshold value v.
        below = cum.gather(1, torch.searchsorted(thresholds, match_dist))
        below_or_tied = cum.gather(
            1, torch.searchsorted(thresholds, match_next))
        tied = ((below_or_tied > below) & real).any(1)
        ranks = below + slots

    if bool(tied.any()):
        rows = tied.nonzero().squeeze(1)
        junk = in_block[rows] & ~is_match[rows]
        junk_rows, junk_slots = junk.nonzero(as_tuple=True)
        ranks[rows] = _exact_ranks(dist[rows], junk_rows,
                                   cols[rows][junk_rows, junk_slots],
                                   match_cols[rows])
    return ranks, num_matches, match_cols


def _single_shot_ranks(dist: Tensor, gal: _GalleryIdentities,
                       block: _SameIdentityBlock, match_cols: Tensor,
                       num_matches: Tensor, uniform: Tensor) -> Tensor:
    """Ranks of the query's match when each identity shows one image.

    For every query and repeat, one gallery image is drawn per identity
    (for the query's own identity, one of its valid matches) and the rank
    of the drawn match among the drawn images is returned (R, C).
    ``uniform`` (R, C, U) holds the uniform draws in [0, 1).
    """
    counts = gal.counts.to(uniform.dtype)
    ranks = []
    own = block.id_pos.unsqueeze(1)
    for draw in uniform:
        pick = (draw * counts).long().clamp_max_(gal.counts - 1)
        cols = gal.order[gal.starts + pick]
        # The query's identity: a uniformly drawn valid true match.
        nth = (draw.gather(1, own).squeeze(1) * num_matches).long()
        nth = nth.clamp_(min=0).clamp_max_((num_matches - 1).clamp_min(0))
        match_col = match_cols.gather(1, nth.unsqueeze(1))
        cols = cols.scatter(1, own, match_col)
        drawn = dist.gather(1, cols)
        match_d = drawn.gather(1, own)
        before = (drawn < match_d) | ((drawn == match_d) & (cols < match_col))
        before.scatter_(1, own, False)
        ranks.append(before.sum(1))
    return torch.stack(ranks)


def _evaluate(distance_rows: Callable[[Tensor, Tensor], Tensor],
              dtype: torch.dtype, query_pids: Tensor,
              gallery_pids: Tensor, query_cams: Tensor, gallery_cams: Tensor,
              max_rank: int, single_shot_repeats: int = 0, seed: int = 0,
              chunk_size: Optional[int] = None,
              exact: bool = False) -> Dict:
    num_query, num_gallery = query_pids.numel(), gallery_pids.numel()
    if not isinstance(max_rank, int) or max_rank < 1:
        raise ValueError(f'max_rank must be a positive int, got {max_rank!r}')
    device = query_pids.device
    gal = _group_gallery(gallery_pids)
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // num_gallery)
    elif chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')

    # Chunks of queries with similar identity sizes keep the per-query
    # threshold tables (and hence the searchsorted cost) small.
    num_ids = gal.ids.numel()
    id_pos = torch.searchsorted(gal.ids, query_pids).clamp_max_(num_ids - 1)
    id_size = torch.where(gal.ids[id_pos] == query_pids, gal.counts[id_pos],
                          0)
    query_order = torch.argsort(id_size, stable=True)

    # Workspaces reused by every chunk (views of their leading rows).
    rows_per_chunk = min(chunk_size, num_query)
    dist_buf = torch.empty(rows_per_chunk, num_gallery, dtype=dtype,
                           device=device)
    bins_buf = torch.empty(rows_per_chunk, num_gallery, dtype=torch.long,
                           device=device)
    generator = torch.Generator().manual_seed(int(seed))
    kth = torch.arange(1, max_rank + 1, device=device)
    cmc_hits = torch.zeros(max_rank, dtype=torch.float64, device=device)
    single_shot_hits = torch.zeros_like(cmc_hits)
    ap_sum = inp_sum = 0.0
    num_valid = 0
    for start in range(0, num_query, chunk_size):
        rows = query_order[start:start + chunk_size]
        dist = distance_rows(rows, dist_buf[:rows.numel()])
        block = _same_identity_block(gal, query_pids[rows], query_cams[rows],
                                     gallery_cams)
        ranks, num_matches, match_cols = _match_ranks(
            dist, block, exact, bins_buf[:rows.numel()])
        valid = num_matches > 0
        if single_shot_repeats > 0:
            uniform = torch.rand(
                single_shot_repeats, rows.numel(), num_ids,
                generator=generator, dtype=torch.float64).to(device)
            shot = _single_shot_ranks(dist, gal, block, match_cols,
                                      num_matches, uniform)
            hits = (shot.unsqueeze(2) < kth).double().mean(0)
            single_shot_hits += hits[valid].sum(0)
        if not bool(valid.any()):
            continue
        ranks, num_matches = ranks[valid].double(), num_matches[valid]
        slots = torch.arange(ranks.size(1), device=device)
        real = slots < num_matches.unsqueeze(1)
        precision = torch.where(real, (slots + 1) / (ranks + 1), 0.)
        ap_sum += float((precision.sum(1) / num_matches).sum())
        hardest = ranks.gather(1, (num_matches - 1).unsqueeze(1)).squeeze(1)
        inp_sum += float((num_matches / (hardest + 1)).sum())
        cmc_hits += (ranks[:, :1] < kth).double().sum(0)
        num_valid += int(valid.sum())

    if num_valid == 0:
        raise ValueError(
            f'no query has a valid gallery match: none of the {num_query} '
            'queries has a gallery image of its identity from another '
            'camera, so CMC / mAP / mINP are undefined')
    result = dict(
        cmc=cmc_hits / num_valid,
        mAP=ap_sum / num_valid,
        mINP=inp_sum / num_valid,
        num_valid_queries=num_valid,
        num_skipped_queries=num_query - num_valid)
    if single_shot_repeats > 0:
        result['single_shot_cmc'] = single_shot_hits / num_valid
    return result


def evaluate_rank(distmat: Tensor,
                  query_pids: Tensor,
                  gallery_pids: Tensor,
                  query_cams: Tensor,
                  gallery_cams: Tensor,
                  max_rank: int = 50,
                  single_shot_repeats: int = 0,
                  seed: int = 0,
                  chunk_size: Optional[int] = None,
                  exact: bool = False) -> Dict:
    """CMC, mAP and mINP from a query-gallery distance matrix.

    Market-1501 protocol: for each query, gallery images with the same
    identity and the same camera are removed; queries left without a true
    match are skipped. The gallery is ordered by ``(distance, gallery
    index)``. For a query with ``m`` matches at 0-based valid positions
    ``r_0 < ... < r_{m-1}``: ``AP = mean_j (j + 1) / (r_j + 1)``,
    ``INP = m / (r_{m-1} + 1)`` (Ye et al. 2021) and the query counts as a
    hit at rank k when ``r_0 < k``.

    Args:
        distmat (Tensor): Distances (Q, G); smaller is more similar.
        query_pids, gallery_pids (Tensor): Integer identities (Q,), (G,).
        query_cams, gallery_cams (Tensor): Integer cameras (Q,), (G,).
        max_rank (int): Length of the returned CMC curve.
        single_shot_repeats (int): If > 0, also return ``single_shot_cmc``,
            the CUHK03 single-gallery-shot CMC: per query and repeat, one
            image is drawn per gallery identity (for the query's own
            identity, one valid match) and the curve is averaged over the
            repeats. Defaults to 0 (off).
        seed (int): Seed of the single-gallery-shot draws.
        chunk_size (int, optional): Queries per chunk; by default a chunk
            holds about 8M distances.
        exact (bool): Rank every query by a full stable sort instead of the
            histogram pass (slow; the two agree exactly).

    Returns:
        dict: ``cmc`` (Tensor (max_rank,), float64), ``mAP`` and ``mINP``
        (float, in [0, 1]), ``num_valid_queries``, ``num_skipped_queries``
        and, if requested, ``single_shot_cmc``.
    """
    if not isinstance(distmat, Tensor) or distmat.dim() != 2:
        raise TypeError('distmat must be a 2-D tensor (Q, G)')
    if not distmat.is_floating_point():
        raise TypeError(f'distmat must be floating point, got '
                        f'{distmat.dtype}')
    num_query, num_gallery = distmat.shape
    _check_labels(query_pids, gallery_pids, query_cams, gallery_cams,
                  num_query, num_gallery)
    if not _all_finite(distmat):
        raise ValueError('distmat contains NaN or infinite values')
    device = distmat.device
    labels = [t.to(device=device, dtype=torch.long) for t in
              (query_pids, gallery_pids, query_cams, gallery_cams)]

    def distance_rows(rows, out):
        return torch.index_select(distmat, 0, rows, out=out)

    return _evaluate(distance_rows, distmat.dtype, *labels,
                     max_rank=max_rank,
                     single_shot_repeats=single_shot_repeats, seed=seed,
                     chunk_size=chunk_size, exact=exact)


def evaluate_rank_from_features(query: Tensor,
                                gallery: Tensor,
                                query_pids: Tensor,
                                gallery_pids: Tensor,
                                query_cams: Tensor,
                                gallery_cams: Tensor,
                                metric: str = 'euclidean',
                                max_rank: int = 50,
                                single_shot_repeats: int = 0,
                                seed: int = 0,
                                chunk_size: Optional[int] = None) -> Dict:
    """:func:`evaluate_rank` without materialising the (Q, G) matrix.

    Distances are computed chunk by chunk of queries (see
    :func:`pairwise_distance` for ``metric``) on the features' device and
    ranked right away. Other arguments and the result are as in
    :func:`evaluate_rank`.
    """
    _check_metric(metric)
    _check_features(query, 'query')
    _check_features(gallery, 'gallery')
    _check_labels(query_pids, gallery_pids, query_cams, gallery_cams,
                  query.size(0), gallery.size(0))
    if query.size(1) != gallery.size(1):
        raise ValueError(f'query features have dimension {query.size(1)} but '
                         f'gallery features have {gallery.size(1)}')
    device = query.device
    gallery = gallery.to(device)
    if metric == 'cosine':
        query, gallery = F.normalize(query, dim=1), F.normalize(gallery, dim=1)

        def distance_rows(rows, out):
            return _cosine(query[rows], gallery, out=out)
    else:
        gallery_sq = gallery.pow(2).sum(1)

        def distance_rows(rows, out):
            return _sq_euclidean(query[rows], gallery, gallery_sq, out=out)

    labels = [t.to(device=device, dtype=torch.long) for t in
              (query_pids, gallery_pids, query_cams, gallery_cams)]
    return _evaluate(distance_rows, query.dtype, *labels,
                     max_rank=max_rank,
                     single_shot_repeats=single_shot_repeats, seed=seed,
                     chunk_size=chunk_size)


def _nearest_neighbours(dist: Tensor, k: int, chunk: int) -> Tensor:
    """The first ``k`` columns of a stable row-wise argsort of ``dist``.

    ``topk`` alone leaves the order of tied values unspecified; this picks
    the tied columns with the smallest indices and orders the result by
    (distance, column), i.e. exactly ``argsort(stable=True)[:, :k]``.
    """
    out = []
    for start in range(0, dist.size(0), chunk):
        d = dist[start:start + chunk]
        kth = torch.topk(d, k, dim=1, largest=False).values.amax(
            1, keepdim=True)
        less = d < kth
        tied = d == kth
        need = k - less.sum(1, keepdim=True)
        take = less | tied
        extra = (take.sum(1, keepdim=True) > k).squeeze(1)
        if bool(extra.any()):
            # More tied columns than free places: keep the first ones.
            rows = extra.nonzero().squeeze(1)
            first = tied[rows].long().cumsum(1) <= need[rows]
            take[rows] = less[rows] | (tied[rows] & first)
        cols = take.nonzero()[:, 1].view(-1, k)
        order = torch.sort(d.gather(1, cols), dim=1, stable=True).indices
        out.append(cols.gather(1, order))
    return torch.cat(out)


def _reciprocal(neighbours: Tensor, k: int):
    """k-nearest neighbours and which of them are k-reciprocal (N, k)."""
    forward = neighbours[:, :k]
    backward = neighbours[forward, :k]
    index = torch.arange(neighbours.size(0), device=neighbours.device)
    return forward, (backward == index.view(-1, 1, 1)).any(-1)


def k_reciprocal_rerank(query: Tensor,
                        gallery: Tensor,
                        k1: int = 20,
                        k2: int = 6,
                        lambda_value: float = 0.3,
                        metric: str = 'euclidean',
                        chunk_size: int = 1024) -> Tensor:
    """k-reciprocal re-ranking (Zhong et al., CVPR 2017).

    All Q + G features form one set. Distances (see
    :func:`pairwise_distance`) are divided by their row maximum. Neighbour
    lists follow the stable (distance, index) order. For each image ``p``:
    ``R(p, k1)`` are the k-reciprocal neighbours among its ``k1 + 1``
    nearest; each ``q`` in it whose ``R(q, round(k1 / 2))`` shares more
    than 2/3 of its members with ``R(p, k1)`` adds those members (the
    expansion ``R*``). ``V[p, g] = exp(-d(p, g))`` on ``R*(p)``, rows
    normalised to sum 1; with ``k2 > 1`` each row is replaced by the mean
    of the rows of its ``k2`` nearest neighbours (local query expansion).
    The Jaccard distance is ``1 - sum_g min(V_p, V_g) / sum_g max(V_p,
    V_g)`` and the result ``(1 - lambda) * d_J + lambda * d``.

    The (N, N) matrices are dense (N = Q + G, memory O(N^2)); the Jaccard
    sums visit only the non-zeros of ``V``.

    Args:
        query (Tensor): Query features (Q, D).
        gallery (Tensor): Gallery features (G, D).
        k1 (int): Size of the k-reciprocal neighbourhood. Defaults to 20.
        k2 (int): Neighbours of the local query expansion. Defaults to 6.
        lambda_value (float): Weight of the original distance, in [0, 1].
            Defaults to 0.3.
        metric (str): Base distance, ``'euclidean'`` or ``'cosine'``.
        chunk_size (int): Rows per chunk of the dense steps.

    Returns:
        Tensor: Re-ranked distances (Q, G).
    """
    for name, value in (('k1', k1), ('k2', k2), ('chunk_size', chunk_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive int, got {value!r}')
    if not 0.0 <= lambda_value <= 1.0:
        raise ValueError(
            f'lambda_value must be in [0, 1], got {lambda_value!r}')
    _check_features(query, 'query')
    _check_features(gallery, 'gallery')
    num_query = query.size(0)
    feats = torch.cat([query, gallery.to(query.device)])
    dist = pairwise_distance(feats, feats, metric).clamp_min_(0)
    dist /= dist.amax(1, keepdim=True).clamp_min_(
        torch.finfo(dist.dtype).tiny)
    num_all = feats.size(0)

    # Slicing past the end of a neighbour list keeps all N (as in numpy).
    k_full, k_half = min(k1 + 1, num_all), min(round(k1 / 2) + 1, num_all)
    k_expand = min(k2, num_all)
    neighbours = _nearest_neighbours(dist, max(k_full, k_expand), chunk_size)
    forward, reciprocal = _reciprocal(neighbours, k_full)
    half_forward, half_reciprocal = _reciprocal(neighbours, k_half)
    members = torch.where(reciprocal, forward, -1)

    in_set = torch.zeros_like(dist, dtype=torch.bool)
    for start in range(0, num_all, chunk_size):
        stop = min(start + chunk_size, num_all)
        cand = forward[start:stop]
        cand_set = half_forward[cand]
        cand_mask = half_reciprocal[cand]
        shared = (cand_set.unsqueeze(-1) == members[start:stop, None, None]
                  ).any(-1) & cand_mask
        accept = reciprocal[start:stop] & (
            3 * shared.sum(-1) > 2 * cand_mask.sum(-1))
        rows = torch.arange(start, stop, device=dist.device)
        r, c = reciprocal[start:stop].nonzero(as_tuple=True)
        in_set[rows[r], forward[start:stop][r, c]] = True
        expand = accept.unsqueeze(-1) & cand_mask
        r, c, h = expand.nonzero(as_tuple=True)
        in_set[rows[r], cand_set[r, c, h]] = True

    weights = torch.where(in_set, torch.exp(-dist), 0.)
    del in_set
    weights /= weights.sum(1, keepdim=True).clamp_min_(
        torch.finfo(dist.dtype).tiny)
    if k2 > 1:
        expanded = torch.empty_like(weights)
        for start in range(0, num_all, chunk_size):
            part = expanded[start:start + chunk_size]
            part.copy_(weights[neighbours[start:start + chunk_size, 0]])
            for t in range(1, k_expand):
                part += weights[neighbours[start:start + chunk_size, t]]
            part /= k_expand
        weights = expanded

    query_w, gallery_w = weights[:num_query], weights[num_query:]
    shared = _sparse_min_sum(query_w, gallery_w)
    union = query_w.sum(1, keepdim=True) + gallery_w.sum(1) - shared
    jaccard = 1 - shared / union.clamp_min_(torch.finfo(dist.dtype).tiny)
    return jaccard.mul_(1 - lambda_value).add_(
        dist[:num_query, num_query:], alpha=lambda_value)


def _sparse_min_sum(rows_a: Tensor, rows_b: Tensor,
                    max_pairs: int = 1 << 22) -> Tensor:
    """``S[i, j] = sum_k min(A[i, k], B[j, k])`` for sparse non-negative rows.

    Only columns where both rows are non-zero contribute, so the sum runs
    over (A entry, B entry) pairs sharing a column (an inverted index).
    """
    b_rows, b_cols = rows_b.nonzero(as_tuple=True)
    b_vals = rows_b[b_rows, b_cols]
    order = torch.argsort(b_cols, stable=True)
    b_rows, b_vals = b_rows[order], b_vals[order]
    col_count = torch.bincount(b_cols, minlength=rows_b.size(1))
    col_start = col_count.cumsum(0) - col_count

    a_rows, a_cols = rows_a.nonzero(as_tuple=True)
    a_vals = rows_a[a_rows, a_cols]
    pairs = col_count[a_cols]
    out = torch.zeros(rows_a.size(0), rows_b.size(0), dtype=rows_a.dtype,
                      device=rows_a.device)
    # Split the A entries so each part expands to at most max_pairs pairs.
    ends = pairs.cumsum(0)
    start = 0
    while start < a_rows.numel():
        base = int(ends[start - 1]) if start > 0 else 0
        stop = int(torch.searchsorted(ends, base + max_pairs, right=True))
        stop = max(stop, start + 1)
        n = pairs[start:stop]
        offset = torch.arange(int(n.sum()), device=out.device)
        owner = torch.repeat_interleave(
            torch.arange(stop - start, device=out.device), n)
        first = n.cumsum(0) - n
        pos = col_start[a_cols[start:stop]][owner] + offset - first[owner]
        out.index_put_((a_rows[start:stop][owner], b_rows[pos]),
                       torch.minimum(a_vals[start:stop][owner], b_vals[pos]),
                       accumulate=True)
        start = stop
    return out
