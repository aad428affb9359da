"""Time the Re-ID evaluation (distances + ranking) on random features.

Example (Market-1501 size)::

    python tools/analysis_tools/benchmark_eval.py --num-query 3368 \
        --num-gallery 15913 --dim 2048 --device cpu --repeats 3 \
        --check-reference --out work_dirs/benchmark_eval.json

Features are L2-normalised noisy identity centres (``--noise``), so the
metrics are neither 0 nor 1. Stages:

* ``gemm``: the floor, one bare ``torch.mm`` of the same shapes
  ((Q, D) x (D, G)); every other stage is also given as a ratio to it;
* ``distances``: :func:`pairwise_distance`, the full (Q, G) matrix;
* ``ranking``: :func:`evaluate_rank` on that matrix (with
  ``--ranking-threads``);
* ``total``: :func:`evaluate_rank_from_features`, chunked distances +
  ranking, the path ``ReIDMetric`` takes;
* ``metric``: ``ReIDMetric.compute_metrics`` on per-sample records (adds
  stacking the records' features).

The stages run interleaved, ``--repeats`` rounds, so that a change of load
on a shared host hits all of them alike; the minimum and the median of the
wall times are reported (with the process CPU time of the fastest run).
The goal is ``total`` <= 1.15 x ``gemm``: anything that is not the GEMM or
the ranking (copies, normalisation passes, dtype round trips, thread
oversubscription) is overhead.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from mmattn.evaluation import ReIDMetric
from mmattn.evaluation.functional import (evaluate_rank,
                                          evaluate_rank_from_features,
                                          pairwise_distance)

STAGES = ('gemm', 'distances', 'ranking', 'total', 'metric')
#: End to end over the bare GEMM (issue 16).
GOAL_RATIO = 1.15


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark the Re-ID metric on random features')
    parser.add_argument('--num-query', type=int, default=3368)
    parser.add_argument('--num-gallery', type=int, default=15913)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument(
        '--num-ids',
        type=int,
        default=751,
        help='identities shared by query and gallery')
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument(
        '--noise',
        type=float,
        default=3.5,
        help='norm of the noise added to unit identity '
        'centres (larger: harder retrieval)')
    parser.add_argument(
        '--distance', default='euclidean', choices=['euclidean', 'cosine'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='interleaved rounds of all stages')
    parser.add_argument(
        '--ranking-threads',
        type=int,
        default=1,
        help='CPU threads of the ranking (0: keep torch\'s setting, '
        f'{torch.get_num_threads()} here); the GEMM uses torch\'s setting')
    parser.add_argument(
        '--stages',
        nargs='+',
        choices=STAGES,
        default=list(STAGES),
        help='stages to time (gemm is always timed)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--check-reference',
        action='store_true',
        help='compare with a plain per-query loop on a subset of queries')
    parser.add_argument('--reference-queries', type=int, default=200)
    parser.add_argument('--out', help='write the results to this JSON file')
    args = parser.parse_args()
    for name in ('num_query', 'num_gallery', 'dim', 'num_ids', 'num_cams',
                 'repeats'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.ranking_threads < 0:
        parser.error('--ranking-threads must be >= 0')
    if 'gemm' not in args.stages:
        args.stages.insert(0, 'gemm')
    if args.check_reference:
        args.stages += [
            s for s in ('distances', 'ranking', 'total')
            if s not in args.stages
        ]
    args.stages = [s for s in STAGES if s in args.stages]
    return args


def make_data(args):
    """Random features of ``num_ids`` identities (+ distractors, id -1)."""
    gen = torch.Generator().manual_seed(args.seed)
    centres = F.normalize(
        torch.randn(args.num_ids, args.dim, generator=gen), dim=1)
    q_pids = torch.randint(0, args.num_ids, (args.num_query, ), generator=gen)
    g_pids = torch.randint(
        0, args.num_ids, (args.num_gallery, ), generator=gen)
    g_pids[torch.rand(args.num_gallery, generator=gen) < 0.15] = -1
    q_cams = torch.randint(0, args.num_cams, (args.num_query, ), generator=gen)
    g_cams = torch.randint(
        0, args.num_cams, (args.num_gallery, ), generator=gen)

    def features(pids):
        noise = torch.randn(len(pids), args.dim, generator=gen)
        feats = F.normalize(noise, dim=1) * args.noise
        known = pids >= 0
        feats[known] += centres[pids[known]]
        return F.normalize(feats, dim=1)

    device = torch.device(args.device)
    return [
        t.to(device) for t in (features(q_pids), features(g_pids), q_pids,
                               g_pids, q_cams, g_cams)
    ]


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
    return dict(
        cmc=hits / len(aps),
        mAP=float(np.mean(aps)),
        mINP=float(np.mean(inps)))


def timed(fn, device):
    """Wall and process CPU time of one call, and its output."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def metric_records(q, g, q_pids, g_pids, q_cams, g_cams):
    """Per-sample records as ``ReIDMetric.process`` stores them."""
    records = []
    for feats, pids, cams, is_query in ((q, q_pids, q_cams, True),
                                        (g, g_pids, g_cams, False)):
        for feat, pid, cam in zip(feats.cpu(), pids.tolist(), cams.tolist()):
            records.append(
                dict(feature=feat, pid=pid, camera=cam, is_query=is_query))
    for i, record in enumerate(records):
        record['sample_idx'] = i
    return records


def main():
    args = parse_args()
    device = torch.device(args.device)
    q, g, q_pids, g_pids, q_cams, g_cams = make_data(args)
    labels = (q_pids, g_pids, q_cams, g_cams)
    threads = args.ranking_threads or None
    out = dict()
    records = metric_records(q, g, *labels) if 'metric' in args.stages \
        else None
    metric = ReIDMetric(
        topk=(1, 5, 10),
        distance=args.distance,
        device=args.device,
        ranking_threads=threads)
    calls = dict(
        gemm=lambda: torch.mm(q, g.t()),
        distances=lambda: pairwise_distance(q, g, args.distance),
        ranking=lambda: evaluate_rank(
            out['distances'], *labels, max_rank=10, ranking_threads=threads),
        total=lambda: evaluate_rank_from_features(
            q,
            g,
            *labels,
            metric=args.distance,
            max_rank=10,
            ranking_threads=threads),
        metric=lambda: metric.compute_metrics(records))
    runs = {stage: [] for stage in args.stages}
    for _ in range(args.repeats):
        for stage in args.stages:
            if stage == 'ranking' and 'distances' not in out:
                out['distances'] = pairwise_distance(q, g, args.distance)
            wall, cpu, result = timed(calls[stage], device)
            runs[stage].append((wall, cpu))
            out[stage] = result
            if stage == 'gemm':
                out.pop('gemm')  # do not hold a second (Q, G) matrix
    best = {stage: min(r) for stage, r in runs.items()}
    median = {
        stage: statistics.median(w for w, _ in r)
        for stage, r in runs.items()
    }
    gemm_min, gemm_median = best['gemm'][0], median['gemm']
    cpu_min = {stage: min(c for _, c in r) for stage, r in runs.items()}

    report = dict(
        num_query=args.num_query,
        num_gallery=args.num_gallery,
        dim=args.dim,
        device=str(device),
        distance=args.distance,
        threads=torch.get_num_threads(),
        ranking_threads=threads,
        repeats=args.repeats,
        seconds={
            stage: b[0]
            for stage, b in best.items()
        },
        median_seconds=median,
        all_seconds={
            stage: [w for w, _ in r]
            for stage, r in runs.items()
        },
        # The least CPU time of any round: on a loaded host the wall time
        # mostly measures the other processes, the CPU time much less so.
        cpu_seconds=cpu_min,
        cpu_ratio_to_gemm={
            stage: cpu_min[stage] / cpu_min['gemm']
            for stage in cpu_min
        },
        ratio_to_gemm={stage: best[stage][0] / gemm_min
                       for stage in best},
        median_ratio_to_gemm={
            stage: median[stage] / gemm_median
            for stage in median
        },
        goal_ratio=GOAL_RATIO)
    if 'total' in out:
        result = out['total']
        report.update(
            rank1=float(result['cmc'][0]),
            rank5=float(result['cmc'][4]),
            rank10=float(result['cmc'][9]),
            mAP=result['mAP'],
            mINP=result['mINP'],
            num_skipped_queries=result['num_skipped_queries'],
            meets_goal=report['ratio_to_gemm']['total'] <= GOAL_RATIO)
    if 'ranking' in out and 'total' in out:
        # The chunked and the full-matrix paths rank the same distances
        # (the same GEMM, chunk by chunk); they must agree.
        ranked, result = out['ranking'], out['total']
        report['full_vs_chunked_max_diff'] = max(
            float((ranked['cmc'] - result['cmc']).abs().max()),
            abs(ranked['mAP'] - result['mAP']),
            abs(ranked['mINP'] - result['mINP']))
    if 'metric' in out and 'total' in out:
        report['metric_vs_total_max_diff'] = max(
            abs(out['metric']['mAP'] - out['total']['mAP']),
            abs(out['metric']['rank1'] - float(out['total']['cmc'][0])),
            abs(out['metric']['mINP'] - out['total']['mINP']))

    if args.check_reference:
        distmat = out['distances']
        n = min(args.reference_queries, args.num_query)
        start = time.perf_counter()
        ref = plain_reference(
            *(t.cpu().numpy()
              for t in (distmat[:n], q_pids[:n], g_pids, q_cams[:n], g_cams)),
            10)
        t_ref = time.perf_counter() - start
        fast = evaluate_rank(
            distmat[:n], q_pids[:n], g_pids, q_cams[:n], g_cams, max_rank=10)
        diff = max(
            float(np.abs(fast['cmc'].cpu().numpy() - ref['cmc']).max()),
            abs(fast['mAP'] - ref['mAP']), abs(fast['mINP'] - ref['mINP']))
        report['reference'] = dict(
            queries=n, seconds=t_ref, max_diff=diff, agrees=diff <= 1e-6)

    print(f'Re-ID evaluation: {args.num_query} queries x '
          f'{args.num_gallery} gallery, dim {args.dim}, {device}, '
          f'{report["threads"]} threads, ranking on '
          f'{threads or report["threads"]} '
          f'({args.repeats} interleaved rounds)')
    # CPU time (all threads) is less sensitive to other load on the host.
    print(f'{"stage":<12}{"min s":>9}{"median s":>10}{"cpu s":>9}'
          f'{"min / gemm":>12}{"med / gemm":>12}{"cpu / gemm":>12}')
    for stage in report['seconds']:
        print(f'{stage:<12}{report["seconds"][stage]:>9.3f}'
              f'{report["median_seconds"][stage]:>10.3f}'
              f'{report["cpu_seconds"][stage]:>9.3f}'
              f'{report["ratio_to_gemm"][stage]:>12.3f}'
              f'{report["median_ratio_to_gemm"][stage]:>12.3f}'
              f'{report["cpu_ratio_to_gemm"][stage]:>12.3f}')
    if 'total' in out:
        print(f'end to end / bare GEMM: {report["ratio_to_gemm"]["total"]:.3f}'
              f' (min), {report["median_ratio_to_gemm"]["total"]:.3f} '
              f'(median), {report["cpu_ratio_to_gemm"]["total"]:.3f} (CPU '
              f'time); goal <= {GOAL_RATIO}')
        for name in ('rank1', 'mAP', 'mINP'):
            print(f'{name:<12}{report[name]:>10.4f}')
    for key in ('full_vs_chunked_max_diff', 'metric_vs_total_max_diff'):
        if key in report:
            print(f'{key}: {report[key]:.2e}')
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
