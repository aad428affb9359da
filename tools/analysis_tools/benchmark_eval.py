"""Time the Re-ID evaluation (distances + ranking) on random features.

Example (Market-1501 size)::

    python tools/analysis_tools/benchmark_eval.py --num-query 3368 \
        --num-gallery 15913 --dim 2048 --device cpu --repeats 3 \
        --check-reference --out work_dirs/benchmark_eval.json

Features are L2-normalised noisy identity centres (``--noise``), so the
metrics are neither 0 nor 1. Stages: ``distances`` (the full (Q, G) matrix),
``ranking`` (:func:`evaluate_rank` on that matrix) and ``total``
(:func:`evaluate_rank_from_features`, chunked distances + ranking, the path
``ReIDMetric`` takes). The best of ``--repeats`` runs is reported, with
its wall and process CPU time.
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch
import torch.nn.functional as F

from mmattn.evaluation.functional import (evaluate_rank,
                                          evaluate_rank_from_features,
                                          pairwise_distance)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark the Re-ID metric on random features')
    parser.add_argument('--num-query', type=int, default=3368)
    parser.add_argument('--num-gallery', type=int, default=15913)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument('--num-ids', type=int, default=751,
                        help='identities shared by query and gallery')
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument('--noise', type=float, default=3.5,
                        help='norm of the noise added to unit identity '
                        'centres (larger: harder retrieval)')
    parser.add_argument('--distance', default='euclidean',
                        choices=['euclidean', 'cosine'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--check-reference', action='store_true',
        help='compare with a plain per-query loop on a subset of queries')
    parser.add_argument('--reference-queries', type=int, default=200)
    parser.add_argument('--out', help='write the results to this JSON file')
    args = parser.parse_args()
    for name in ('num_query', 'num_gallery', 'dim', 'num_ids', 'num_cams',
                 'repeats'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    return args


def make_data(args):
    """Random features of ``num_ids`` identities (+ distractors, id -1)."""
    gen = torch.Generator().manual_seed(args.seed)
    centres = F.normalize(torch.randn(args.num_ids, args.dim, generator=gen),
                          dim=1)
    q_pids = torch.randint(0, args.num_ids, (args.num_query, ), generator=gen)
    g_pids = torch.randint(0, args.num_ids, (args.num_gallery, ),
                           generator=gen)
    g_pids[torch.rand(args.num_gallery, generator=gen) < 0.15] = -1
    q_cams = torch.randint(0, args.num_cams, (args.num_query, ),
                           generator=gen)
    g_cams = torch.randint(0, args.num_cams, (args.num_gallery, ),
                           generator=gen)

    def features(pids):
        noise = torch.randn(len(pids), args.dim, generator=gen)
        feats = F.normalize(noise, dim=1) * args.noise
        known = pids >= 0
        feats[known] += centres[pids[known]]
        return F.normalize(feats, dim=1)

    device = torch.device(args.device)
    return [t.to(device) for t in (features(q_pids), features(g_pids),
                                   q_pids, g_pids, q_cams, g_cams)]


def plain_reference(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """Per-query loop over a stable argsort (the protocol's definition)."""
    hits, aps, inps = np.zeros(max_rank), [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        keep = ~((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        rel = g_pids[order][keep] == q_pids[i]
        if not rel.any():
            continue
        pos = np.flatnonzero(rel)
        hits += pos[0] < np.arange(1, max_rank + 1)
        aps.append(np.mean(np.arange(1, len(pos) + 1) / (pos + 1)))
        inps.append(len(pos) / (pos[-1] + 1))
    return dict(cmc=hits / len(aps), mAP=float(np.mean(aps)),
                mINP=float(np.mean(inps)))


def best_time(fn, repeats, device):
    """Best wall time, the CPU time of that run, and the output."""
    runs, out = [], None
    for _ in range(repeats):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        runs.append((time.perf_counter() - start,
                     time.process_time() - start_cpu))
    return min(runs), out


def main():
    args = parse_args()
    device = torch.device(args.device)
    q, g, q_pids, g_pids, q_cams, g_cams = make_data(args)
    labels = (q_pids, g_pids, q_cams, g_cams)

    t_dist, distmat = best_time(
        lambda: pairwise_distance(q, g, args.distance), args.repeats, device)
    t_rank, ranked = best_time(
        lambda: evaluate_rank(distmat, *labels, max_rank=10), args.repeats,
        device)
    t_total, result = best_time(
        lambda: evaluate_rank_from_features(
            q, g, *labels, metric=args.distance, max_rank=10), args.repeats,
        device)

    report = dict(
        num_query=args.num_query, num_gallery=args.num_gallery,
        dim=args.dim, device=str(device), distance=args.distance,
        threads=torch.get_num_threads(), repeats=args.repeats,
        seconds=dict(distances=t_dist[0], ranking=t_rank[0],
                     total=t_total[0]),
        cpu_seconds=dict(distances=t_dist[1], ranking=t_rank[1],
                         total=t_total[1]),
        rank1=float(result['cmc'][0]), rank5=float(result['cmc'][4]),
        rank10=float(result['cmc'][9]), mAP=result['mAP'],
        mINP=result['mINP'],
        num_skipped_queries=result['num_skipped_queries'])
    # The chunked and the full-matrix paths rank the same distances up to
    # GEMM rounding; they must agree.
    report['full_vs_chunked_max_diff'] = max(
        float((ranked['cmc'] - result['cmc']).abs().max()),
        abs(ranked['mAP'] - result['mAP']),
        abs(ranked['mINP'] - result['mINP']))

    if args.check_reference:
        n = min(args.reference_queries, args.num_query)
        start = time.perf_counter()
        ref = plain_reference(*(t.cpu().numpy() for t in (
            distmat[:n], q_pids[:n], g_pids, q_cams[:n], g_cams)), 10)
        t_ref = time.perf_counter() - start
        fast = evaluate_rank(distmat[:n], q_pids[:n], g_pids, q_cams[:n],
                             g_cams, max_rank=10)
        diff = max(
            float(np.abs(fast['cmc'].cpu().numpy() - ref['cmc']).max()),
            abs(fast['mAP'] - ref['mAP']), abs(fast['mINP'] - ref['mINP']))
        report['reference'] = dict(queries=n, seconds=t_ref, max_diff=diff,
                                   agrees=diff <= 1e-6)

    print(f'Re-ID evaluation: {args.num_query} queries x '
          f'{args.num_gallery} gallery, dim {args.dim}, {device}, '
          f'{report["threads"]} threads (best of {args.repeats})')
    # CPU time (all threads) is less sensitive to other load on the host.
    print(f'{"stage":<12}{"wall s":>10}{"cpu s":>10}')
    for stage, seconds in report['seconds'].items():
        print(f'{stage:<12}{seconds:>10.3f}'
              f'{report["cpu_seconds"][stage]:>10.3f}')
    print(f'{"rank1":<12}{report["rank1"]:>10.4f}')
    print(f'{"mAP":<12}{report["mAP"]:>10.4f}')
    print(f'{"mINP":<12}{report["mINP"]:>10.4f}')
    if 'reference' in report:
        ref = report['reference']
        print(f'reference check on {ref["queries"]} queries: max diff '
              f'{ref["max_diff"]:.2e} ({"OK" if ref["agrees"] else "FAIL"})')
    if args.out:
        if osp.dirname(args.out):
            os.makedirs(osp.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'saved {args.out}')
    if 'reference' in report and not report['reference']['agrees']:
        raise SystemExit('the fast ranking disagrees with the reference')


if __name__ == '__main__':
    main()
