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
from contextlib import contextmanager
from typing import Callable, Dict, NamedTuple, Optional

import torch
from torch import Tensor

DISTANCE_METRICS = ('euclidean', 'cosine')

#: Elements of one (queries x gallery) distance chunk; bounds memory.
_CHUNK_ELEMENTS = 1 << 23


def _check_features(feats: Tensor, name: str, finite: bool = True) -> None:
    if not isinstance(feats, Tensor) or feats.dim() != 2:
        raise TypeError(f'{name} must be a 2-D tensor (N, D), got '
                        f'{type(feats).__name__} of shape '
                        f'{getattr(feats, "shape", None)}')
    if not feats.is_floating_point():
        raise TypeError(f'{name} must be a floating point tensor, got '
                        f'{feats.dtype}')
    if finite and feats.numel() and not _all_finite(feats):
        raise ValueError(f'{name} contains NaN or infinite values')


def _check_metric(metric: str) -> None:
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'distance metric must be one of {DISTANCE_METRICS}'
                         f', got {metric!r}')


def _all_finite(values: Tensor) -> bool:
    # One reduction pass; NaN propagates through min / max.
    low, high = torch.aminmax(values)
    return bool(torch.isfinite(low) & torch.isfinite(high))


def _squared_norms(feats: Tensor) -> Tensor:
    """Row-wise ``sum_d x_d^2`` (N,), one fused pass without an (N, D)
    temporary (``x.pow(2).sum(1)`` writes one)."""
    return torch.einsum('nd,nd->n', feats, feats)


def _augmented_features(feats: Tensor,
                        metric: str,
                        side: str,
                        rows: Optional[Tensor] = None) -> Tensor:
    """Features with two extra columns so that one GEMM gives distances.

    For ``metric='euclidean'`` the query side is ``[q, |q|^2, 1]`` and the
    gallery side ``[-2 g, 1, |g|^2]``, so ``A @ B.T = |q|^2 + |g|^2 - 2 q.g``
    (scaling by -2 is exact). For ``'cosine'`` the rows are L2-normalised
    and the sides are ``[q_n, 1, 0]`` and ``[-g_n, 1, 0]``: ``1 - cos``.
    The distances thus leave the GEMM finished: no broadcast copy into the
    output, no extra pass over the (Q, G) matrix.

    Non-finite features give a non-finite norm, so the check costs no extra
    pass over the features.

    Args:
        feats (Tensor): Features (N, D).
        metric (str): ``'euclidean'`` or ``'cosine'``.
        side (str): ``'query'`` or ``'gallery'``.
        rows (Tensor, optional): Take these rows, in this order.

    Returns:
        Tensor: (N', D + 2), contiguous, on the features' device.
    """
    if rows is not None:
        feats = feats.index_select(0, rows)
    num, dim = feats.shape
    out = feats.new_empty(num, dim + 2)
    body = out[:, :dim]
    if metric == 'cosine':
        norm = torch.linalg.vector_norm(feats, dim=1, keepdim=True)
        scale = norm.clamp_min(1e-12)  # as F.normalize
        if side == 'gallery':
            scale.neg_()
        torch.div(feats, scale, out=body)
        out[:, dim] = 1
        out[:, dim + 1] = 0
        check = norm
    else:
        sq = _squared_norms(feats)
        if side == 'gallery':
            torch.mul(feats, -2, out=body)
            out[:, dim] = 1
            out[:, dim + 1] = sq
        else:
            body.copy_(feats)
            out[:, dim] = sq
            out[:, dim + 1] = 1
        check = sq
    if num and not bool(torch.isfinite(check).all()):
        raise ValueError(
            f'{side} features contain NaN or infinite values (or values '
            'whose squares overflow)')
    return out


def _distances(query_aug: Tensor,
               gallery_aug: Tensor,
               out: Optional[Tensor] = None) -> Tensor:
    """Distances (Q, G) from augmented features: a single GEMM."""
    return torch.mm(query_aug, gallery_aug.t(), out=out)


def _check_pair(query: Tensor, gallery: Tensor) -> None:
    _check_features(query, 'query', finite=False)
    _check_features(gallery, 'gallery', finite=False)
    if query.size(1) != gallery.size(1):
        raise ValueError(f'query features have dimension {query.size(1)} but '
                         f'gallery features have {gallery.size(1)}')
    if query.dtype != gallery.dtype:
        raise TypeError(f'query features are {query.dtype} but gallery '
                        f'features are {gallery.dtype}')


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
        :func:`evaluate_rank_from_features` computes exactly these values
        (the same GEMM, chunk by chunk).
    """
    _check_metric(metric)
    _check_pair(query, gallery)
    gallery = gallery.to(query.device)
    return _distances(
        _augmented_features(query, metric, 'query'),
        _augmented_features(gallery, metric, 'gallery'))


@contextmanager
def _intra_op_threads(num_threads: Optional[int], device: torch.device):
    """Run the block with ``num_threads`` CPU threads (then restore).

    The ranking is a chain of small memory-bound ops; on a loaded CPU every
    parallel op waits for its slowest thread, and one thread is faster
    (measured: 0.43 s at 1 thread vs 2.3 s at 2 on a shared 2-core host).
    """
    current = torch.get_num_threads()
    if (num_threads is None or device.type != 'cpu' or num_threads == current):
        yield
        return
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(current)


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
    flat = (gal.starts[id_pos].unsqueeze(1) +
            slots).clamp_max_(gal.order.numel() - 1)
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


#: Uniform buckets of the dense rows' distance range (see _dense_bins).
_NUM_BUCKETS = 2048


def _row_counts(mask: Tensor) -> Tensor:
    """Trues per row of a bool (R, N) matrix (int64 (R,))."""
    # Summing the bytes into int32 is several times faster than a bool sum.
    return mask.view(torch.uint8).sum(1, dtype=torch.int32).long()


def _packed_bins(values: Tensor, mask: Tensor, counts: Tensor,
                 thresholds: Tensor) -> Tensor:
    """``searchsorted(thresholds, values, right=True)`` of the masked
    entries only, row by row, in row-major order (1-D).

    The masked values are packed to the left of an inf-padded (R, max
    count) matrix (masked copies, no (row, col) index lists) so that one
    batched searchsorted with per-row thresholds bins them all.
    """
    width = max(int(counts.max()), 1) if counts.numel() else 1
    packed = torch.full((counts.numel(), width),
                        float('inf'),
                        dtype=values.dtype,
                        device=values.device)
    kept = torch.arange(width, device=values.device) < counts.unsqueeze(1)
    packed.masked_scatter_(kept, values[mask])
    return torch.searchsorted(thresholds, packed, right=True)[kept]


def _dense_bins(dist: Tensor, thresholds: Tensor, lo: Tensor,
                hi: Tensor) -> Tensor:
    """``searchsorted(thresholds, dist, right=True)`` (R, G) for rows with
    many distances to bin, without a binary search per distance.

    Each row's range ``[lo, hi]`` (its first and last finite threshold) is
    cut into ``_NUM_BUCKETS`` uniform buckets; the bucket of ``x`` is
    ``(x - lo) * s + 1`` clamped and truncated, computed with the same
    IEEE operations for distances and thresholds, hence monotone in ``x``.
    So in a bucket holding no threshold, every ``x`` has the bin ``#{t :
    bucket(t) < bucket(x)}`` (a table lookup); only the distances in the
    few buckets holding a threshold are binned by searchsorted.
    """
    num_buckets = _NUM_BUCKETS
    # (B - 2) / range keeps finite thresholds (<= hi) below bucket B + 1,
    # the bucket of the larger distances; inf thresholds go to B + 2.
    # Clamped: a range of a denormal width (nearly collapsed features give
    # hi - lo = 1e-45) overflows to inf, and (lo - lo) * inf is NaN.
    scale = ((num_buckets - 2) /
             (hi - lo)).clamp_(max=torch.finfo(dist.dtype).max).unsqueeze(1)
    lo = lo.unsqueeze(1)

    def bucket(x, top):
        return torch.sub(x, lo).mul_(scale).add_(1).clamp_(0, top).long()

    thr_bucket = bucket(thresholds, num_buckets + 2)
    occupied = torch.zeros(
        dist.size(0), num_buckets + 3, dtype=torch.long, device=dist.device)
    occupied.scatter_add_(
        1, thr_bucket,
        torch.ones_like(thr_bucket[:1, :1]).expand_as(thr_bucket))
    before = occupied.cumsum(1).sub_(occupied)
    elem_bucket = bucket(dist, num_buckets + 1)
    bins = before.gather(1, elem_bucket)
    exact = (occupied > 0).gather(1, elem_bucket)
    del elem_bucket
    bins.masked_scatter_(
        exact, _packed_bins(dist, exact, _row_counts(exact), thresholds))
    return bins


def _threshold_histogram(dist: Tensor, thresholds: Tensor,
                         limit: Tensor) -> Tensor:
    """Per row, how many distances fall in each threshold bin.

    Bin ``b`` of a distance ``x`` is ``#{thresholds <= x}``; the result
    (C, T + 1) counts every ``x < limit`` (rows' ``limit`` is their largest
    finite threshold, so the bins of larger ``x`` are never read and may
    hold anything). Rows with few such distances (the usual case: the
    hardest match ranks early) bin only those (compacted); the others bin
    the whole row by :func:`_dense_bins`.
    """
    num_rows, num_cols = dist.shape
    hist = torch.zeros(
        num_rows, thresholds.size(1) + 1, dtype=torch.long, device=dist.device)
    below = dist < limit.unsqueeze(1)
    counts = _row_counts(below)
    sparse = counts <= max(num_cols // 8, 1)
    dense = ~sparse
    all_sparse, all_dense = bool(sparse.all()), bool(dense.all())
    if not all_dense:
        if not all_sparse:
            below[dense] = False  # cost in the dense rows only
            counts = torch.where(sparse, counts, 0)
        bins = _packed_bins(dist, below, counts, thresholds)
        width = hist.size(1)
        row = torch.repeat_interleave(
            torch.arange(0, num_rows * width, width, device=dist.device),
            counts)
        hist = torch.bincount(
            row.add_(bins), minlength=hist.numel()).view(num_rows, width)
        if all_sparse:
            return hist
    rows = None if all_dense else dense.nonzero().squeeze(1)
    part_dist = dist if all_dense else dist[rows]
    part_thr = thresholds if all_dense else thresholds[rows]
    bins = _dense_bins(part_dist, part_thr, part_thr[:, 0],
                       limit if all_dense else limit[rows])
    part = torch.zeros_like(hist if all_dense else hist[rows])
    part.scatter_add_(1, bins, torch.ones_like(part[:1, :1]).expand_as(bins))
    if all_dense:
        return part
    hist[rows] = part
    return hist


def _match_ranks(dist: Tensor, block: _SameIdentityBlock, exact: bool = False):
    """Positions of the true matches among the valid gallery of each query.

    Args:
        dist (Tensor): Distances of a chunk of queries (C, G).
        block (_SameIdentityBlock): Their same-identity gallery images.
        exact (bool): Rank every row by a full stable sort (for testing).

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
        thresholds = torch.sort(
            torch.cat([match_dist, match_next], 1), dim=1).values
        # Images beyond the hardest match never precede a match: only the
        # ones below it are binned.
        last = (num_matches - 1).clamp_min(0).unsqueeze(1)
        limit = torch.where(num_matches > 0,
                            match_next.gather(1, last).squeeze(1), -inf)
        hist = _threshold_histogram(dist, thresholds, limit)
        # Keep only images of other identities (all valid): the block's
        # own images (matches and junk) are taken out again.
        hist.scatter_add_(
            1, torch.searchsorted(thresholds, block_dist, right=True),
            -in_block.long())
        cum = hist.cumsum_(1)
        # With right-sided bins, #{x < v} = cum[#{thresholds < v}] for any
        # threshold value v.
        below = cum.gather(1, torch.searchsorted(thresholds, match_dist))
        below_or_tied = cum.gather(1,
                                   torch.searchsorted(thresholds, match_next))
        tied = ((below_or_tied > below) & real).any(1)
        ranks = below + slots

    if bool(tied.any()):
        rows = tied.nonzero().squeeze(1)
        junk = in_block[rows] & ~is_match[rows]
        junk_rows, junk_slots = junk.nonzero(as_tuple=True)
        ranks[rows] = _exact_ranks(dist[rows], junk_rows,
                                   cols[rows][junk_rows,
                                              junk_slots], match_cols[rows])
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


def _check_options(max_rank, chunk_size, ranking_threads) -> None:
    if not isinstance(max_rank, int) or max_rank < 1:
        raise ValueError(f'max_rank must be a positive int, got {max_rank!r}')
    if chunk_size is not None and (not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size!r}')
    if ranking_threads is not None and (not isinstance(ranking_threads, int)
                                        or ranking_threads < 1):
        raise ValueError('ranking_threads must be None or a positive int, '
                         f'got {ranking_threads!r}')


def _query_order(gal: _GalleryIdentities, query_pids: Tensor) -> Tensor:
    """Queries sorted by the gallery size of their identity: chunks of
    queries with similar identity sizes keep the per-query threshold tables
    (and hence the searchsorted cost) small."""
    num_ids = gal.ids.numel()
    id_pos = torch.searchsorted(gal.ids, query_pids).clamp_max_(num_ids - 1)
    id_size = torch.where(gal.ids[id_pos] == query_pids, gal.counts[id_pos], 0)
    return torch.argsort(id_size, stable=True)


def _evaluate(distance_rows: Callable[[int, int, Tensor, Tensor], Tensor],
              dtype: torch.dtype,
              query_pids: Tensor,
              gallery_pids: Tensor,
              query_cams: Tensor,
              gallery_cams: Tensor,
              max_rank: int,
              gal: _GalleryIdentities,
              query_order: Tensor,
              single_shot_repeats: int = 0,
              seed: int = 0,
              chunk_size: Optional[int] = None,
              exact: bool = False,
              ranking_threads: Optional[int] = 1) -> Dict:
    """Rank chunk after chunk of queries, in ``query_order``.

    ``distance_rows(start, stop, rows, out)`` returns the distances (C, G)
    of the queries ``rows = query_order[start:stop]``, written into ``out``
    (a reused workspace). It runs with the caller's CPU threads (the GEMM
    scales with them); the ranking runs with ``ranking_threads``.
    """
    num_query, num_gallery = query_pids.numel(), gallery_pids.numel()
    device = query_pids.device
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // num_gallery)
    num_ids = gal.ids.numel()

    # Workspaces reused by every chunk (views of their leading rows).
    rows_per_chunk = min(chunk_size, num_query)
    dist_buf = torch.empty(
        rows_per_chunk, num_gallery, dtype=dtype, device=device)
    generator = torch.Generator().manual_seed(int(seed))
    kth = torch.arange(1, max_rank + 1, device=device)
    cmc_hits = torch.zeros(max_rank, dtype=torch.float64, device=device)
    single_shot_hits = torch.zeros_like(cmc_hits)
    ap_sum = inp_sum = 0.0
    num_valid = 0
    for start in range(0, num_query, chunk_size):
        stop = min(start + chunk_size, num_query)
        rows = query_order[start:stop]
        dist = distance_rows(start, stop, rows, dist_buf[:stop - start])
        with _intra_op_threads(ranking_threads, device):
            block = _same_identity_block(gal, query_pids[rows],
                                         query_cams[rows], gallery_cams)
            ranks, num_matches, match_cols = _match_ranks(dist, block, exact)
            valid = num_matches > 0
            if single_shot_repeats > 0:
                uniform = torch.rand(
                    single_shot_repeats,
                    rows.numel(),
                    num_ids,
                    generator=generator,
                    dtype=torch.float64).to(device)
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
            hardest = ranks.gather(1, (num_matches - 1).unsqueeze(1))
            inp_sum += float((num_matches / (hardest.squeeze(1) + 1)).sum())
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
                  exact: bool = False,
                  ranking_threads: Optional[int] = 1) -> Dict:
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
        ranking_threads (int, optional): CPU threads of the ranking (a
            chain of small memory-bound ops, fastest on one thread,
            especially on a loaded host); the caller's setting is restored
            afterwards. ``None`` keeps the caller's. No effect on CUDA.
            Defaults to 1.

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
    _check_options(max_rank, chunk_size, ranking_threads)
    if not _all_finite(distmat):
        raise ValueError('distmat contains NaN or infinite values')
    device = distmat.device
    labels = [
        t.to(device=device, dtype=torch.long)
        for t in (query_pids, gallery_pids, query_cams, gallery_cams)
    ]
    gal = _group_gallery(labels[1])

    def distance_rows(start, stop, rows, out):
        return torch.index_select(distmat, 0, rows, out=out)

    return _evaluate(
        distance_rows,
        distmat.dtype,
        *labels,
        max_rank=max_rank,
        gal=gal,
        query_order=_query_order(gal, labels[0]),
        single_shot_repeats=single_shot_repeats,
        seed=seed,
        chunk_size=chunk_size,
        exact=exact,
        ranking_threads=ranking_threads)


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
                                chunk_size: Optional[int] = None,
                                ranking_threads: Optional[int] = 1) -> Dict:
    """:func:`evaluate_rank` without materialising the (Q, G) matrix.

    Distances are computed chunk by chunk of queries on the features'
    device and ranked right away. They are exactly those of
    :func:`pairwise_distance` (see there for ``metric``): one GEMM per
    chunk of features augmented by their squared norms, written into a
    reused buffer and ranked in place, so nothing but the GEMM and the
    ranking touches the (chunk, G) distances. Other arguments and the
    result are as in :func:`evaluate_rank`.
    """
    _check_metric(metric)
    _check_pair(query, gallery)
    _check_labels(query_pids, gallery_pids, query_cams, gallery_cams,
                  query.size(0), gallery.size(0))
    _check_options(max_rank, chunk_size, ranking_threads)
    device = query.device
    labels = [
        t.to(device=device, dtype=torch.long)
        for t in (query_pids, gallery_pids, query_cams, gallery_cams)
    ]
    gal = _group_gallery(labels[1])
    query_order = _query_order(gal, labels[0])
    # The queries are augmented in chunk order, so a chunk is a slice.
    query_aug = _augmented_features(query, metric, 'query', query_order)
    gallery_aug = _augmented_features(gallery.to(device), metric, 'gallery')

    def distance_rows(start, stop, rows, out):
        return _distances(query_aug[start:stop], gallery_aug, out=out)

    return _evaluate(
        distance_rows,
        query.dtype,
        *labels,
        max_rank=max_rank,
        gal=gal,
        query_order=query_order,
        single_shot_repeats=single_shot_repeats,
        seed=seed,
        chunk_size=chunk_size,
        ranking_threads=ranking_threads)


def _nearest_neighbours(dist: Tensor, k: int, chunk: int) -> Tensor:
    """The first ``k`` columns of a stable row-wise argsort of ``dist``.

    ``topk`` alone leaves the order of tied values unspecified; this picks
    the tied columns with the smallest indices and orders the result by
    (distance, column), i.e. exactly ``argsort(stable=True)[:, :k]``.
    """
    out = []
    for start in range(0, dist.size(0), chunk):
        d = dist[start:start + chunk]
        kth = torch.topk(
            d, k, dim=1, largest=False).values.amax(
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
    dist /= dist.amax(1, keepdim=True).clamp_min_(torch.finfo(dist.dtype).tiny)
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
        shared = (cand_set.unsqueeze(-1) == members[start:stop, None,
                                                    None]).any(-1) & cand_mask
        accept = reciprocal[start:stop] & (3 * shared.sum(-1)
                                           > 2 * cand_mask.sum(-1))
        rows = torch.arange(start, stop, device=dist.device)
        r, c = reciprocal[start:stop].nonzero(as_tuple=True)
        in_set[rows[r], forward[start:stop][r, c]] = True
        expand = accept.unsqueeze(-1) & cand_mask
        r, c, h = expand.nonzero(as_tuple=True)
        in_set[rows[r], cand_set[r, c, h]] = True

    weights = torch.where(in_set, torch.exp(-dist), 0.)
    del in_set
    weights /= weights.sum(
        1, keepdim=True).clamp_min_(torch.finfo(dist.dtype).tiny)
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


def _sparse_min_sum(rows_a: Tensor,
                    rows_b: Tensor,
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
    out = torch.zeros(
        rows_a.size(0),
        rows_b.size(0),
        dtype=rows_a.dtype,
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
