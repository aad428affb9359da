"""Person Re-ID retrieval metric: CMC rank-k, mAP and mINP."""
import logging
from typing import List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmattn.registry import METRICS
from ..functional import (DISTANCE_METRICS, evaluate_rank,
                          evaluate_rank_from_features, k_reciprocal_rerank)

PROTOCOLS = ('market1501', 'cuhk03_single_shot')
METRIC_NAMES = ('cmc', 'mAP', 'mINP')


def _preview(ids: List[int], limit: int = 10) -> str:
    """The first ``limit`` ids of a list for a message, with the count."""
    shown = ', '.join(str(i) for i in ids[:limit])
    more = f', ... ({len(ids) - limit} more)' if len(ids) > limit else ''
    return f'[{shown}{more}]'


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """Query-gallery retrieval metric of person Re-ID.

    Each data sample (from the Re-ID model's ``predict``) carries
    ``pred_feature`` (D,), ``gt_label`` (the person id), ``camera_id`` and
    ``is_query``; ``sample_idx`` is used, when present, to put the records
    in dataset order, so the result depends only on the set of records
    (ties in distance are broken by gallery order). Across ranks, mmengine's
    evaluator gathers the records and drops the sampler's padding.

    Protocols:

    - ``'market1501'``: for each query, gallery images of its identity taken
      by its camera are removed; the gallery is ordered by (distance,
      gallery index); CMC, mAP and mINP (Ye et al. 2021) are averaged over
      the queries that keep at least one true match (the others are
      skipped and counted in a logged warning, which also counts the queries
      whose identity is absent from the gallery). It is an error when no
      query keeps a true match or no query identity is in the gallery.
    - ``'cuhk03_single_shot'``: the classic CUHK03 single-gallery-shot CMC:
      per query, one gallery image is drawn per identity (for the query's
      own identity, one of its valid matches) and the CMC is averaged over
      ``sgs_repeats`` draws; mAP and mINP as in ``'market1501'``.

    Args:
        metric (str | Sequence[str]): Any of ``'cmc'``, ``'mAP'``,
            ``'mINP'``. Defaults to all three.
        topk (int | Sequence[int]): Ranks reported as ``rank{k}``.
            Defaults to (1, 5, 10).
        protocol (str): ``'market1501'`` or ``'cuhk03_single_shot'``.
        rerank (bool): Apply k-reciprocal re-ranking (Zhong et al. 2017)
            before ranking. Needs O((Q + G)^2) memory. Defaults to False.
        k1 (int): Re-ranking neighbourhood size. Defaults to 20.
        k2 (int): Re-ranking query-expansion size. Defaults to 6.
        lambda_value (float): Re-ranking weight of the original distance.
            Defaults to 0.3.
        distance (str): ``'euclidean'`` (squared) or ``'cosine'``.
        sgs_repeats (int): Draws of the single-gallery-shot protocol.
            Defaults to 10.
        seed (int): Seed of those draws. Defaults to 0.
        device (str, optional): Where distances are computed; defaults to
            ``'cuda'`` when available, else ``'cpu'``.
        ranking_threads (int, optional): CPU threads of the ranking (the
            distance GEMM keeps torch's setting); 1 is fastest, more so on a
            loaded host. ``None`` keeps torch's setting. Defaults to 1.
        collect_device (str): Device used to collect results across ranks.
        prefix (str, optional): Metric name prefix. Defaults to ``'reid'``.

    Examples:
        >>> val_evaluator = dict(type='ReIDMetric', topk=(1, 5, 10))
        >>> # logs reid/rank1, reid/rank5, reid/rank10, reid/mAP, reid/mINP
    """
    default_prefix: Optional[str] = 'reid'

    def __init__(self,
                 metric: Union[str, Sequence[str]] = METRIC_NAMES,
                 topk: Union[int, Sequence[int]] = (1, 5, 10),
                 protocol: str = 'market1501',
                 rerank: bool = False,
                 k1: int = 20,
                 k2: int = 6,
                 lambda_value: float = 0.3,
                 distance: str = 'euclidean',
                 sgs_repeats: int = 10,
                 seed: int = 0,
                 device: Optional[str] = None,
                 ranking_threads: Optional[int] = 1,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = (metric, ) if isinstance(metric, str) else tuple(metric)
        if not metrics or any(m not in METRIC_NAMES for m in metrics):
            raise ValueError(f'ReIDMetric: metric must be a non-empty subset '
                             f'of {METRIC_NAMES}, got {metric!r}')
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'ReIDMetric: topk must hold positive ints, got '
                             f'{topk!r}')
        if protocol not in PROTOCOLS:
            raise ValueError(f'ReIDMetric: protocol must be one of '
                             f'{PROTOCOLS}, got {protocol!r}')
        if distance not in DISTANCE_METRICS:
            raise ValueError(f'ReIDMetric: distance must be one of '
                             f'{DISTANCE_METRICS}, got {distance!r}')
        for name, value in (('k1', k1), ('k2', k2), ('sgs_repeats',
                                                     sgs_repeats)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'ReIDMetric: {name} must be a positive '
                                 f'int, got {value!r}')
        if not 0.0 <= lambda_value <= 1.0:
            raise ValueError(f'ReIDMetric: lambda_value must be in [0, 1], '
                             f'got {lambda_value!r}')
        self.metrics = metrics
        self.topk = topk
        self.protocol = protocol
        self.rerank = rerank
        self.k1, self.k2, self.lambda_value = k1, k2, lambda_value
        self.distance = distance
        self.sgs_repeats = sgs_repeats
        self.seed = seed
        if ranking_threads is not None and (
                not isinstance(ranking_threads, int) or ranking_threads < 1):
            raise ValueError(f'ReIDMetric: ranking_threads must be None or a '
                             f'positive int, got {ranking_threads!r}')
        self.device = device
        self.ranking_threads = ranking_threads

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store one small record per sample (the feature on the CPU)."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [
                key for key in ('pred_feature', 'gt_label', 'camera_id',
                                'is_query') if key not in sample
            ]
            if missing:
                raise KeyError(
                    f'ReIDMetric: data sample lacks {missing}; the Re-ID '
                    "model's predict must set 'pred_feature' and the dataset "
                    "'gt_label', 'camera_id' and 'is_query'")
            feature = torch.as_tensor(sample['pred_feature']).detach()
            if feature.dim() != 1:
                raise ValueError(
                    'ReIDMetric: pred_feature must be a 1-D tensor per '
                    f'sample, got shape {tuple(feature.shape)}')
            record = dict(
                feature=feature.cpu(),
                pid=int(torch.as_tensor(sample['gt_label']).view(-1)[0]),
                camera=int(torch.as_tensor(sample['camera_id']).view(-1)[0]),
                is_query=bool(sample['is_query']))
            if 'sample_idx' in sample:
                record['sample_idx'] = int(sample['sample_idx'])
            self.results.append(record)

    def compute_metrics(self, results: List[dict]) -> dict:
        if all('sample_idx' in r for r in results):
            results = sorted(results, key=lambda r: r['sample_idx'])
        query = [r for r in results if r['is_query']]
        gallery = [r for r in results if not r['is_query']]
        if not query:
            raise ValueError('ReIDMetric: no query samples (is_query=True) '
                             'among the evaluated data')
        if not gallery:
            raise ValueError('ReIDMetric: no gallery samples (is_query=False)'
                             ' among the evaluated data')
        # A query identity with no gallery image at all usually means the
        # query and gallery come from different releases or splits.
        gallery_pids = {r['pid'] for r in gallery}
        absent = sorted({r['pid'] for r in query} - gallery_pids)
        num_absent = sum(r['pid'] not in gallery_pids for r in query)
        if num_absent == len(query):
            raise ValueError(
                f'ReIDMetric: none of the {len(query)} queries has its '
                'identity in the gallery (query ids '
                f'{_preview(absent)}, {len(gallery_pids)} gallery ids); '
                'query and gallery must come from the same dataset release')
        device = self.device or ('cuda'
                                 if torch.cuda.is_available() else 'cpu')

        def stack(records):
            feats = [r['feature'] for r in records]
            dims = {f.numel() for f in feats}
            if len(dims) != 1:
                raise ValueError('ReIDMetric: pred_feature sizes differ '
                                 f'between samples: {sorted(dims)}')
            feats = torch.stack(feats)
            if feats.dtype not in (torch.float32, torch.float64):
                feats = feats.float()
            return (feats.to(device),
                    torch.tensor([r['pid'] for r in records], device=device),
                    torch.tensor([r['camera'] for r in records],
                                 device=device))

        q_feats, q_pids, q_cams = stack(query)
        g_feats, g_pids, g_cams = stack(gallery)
        options = dict(
            max_rank=max(self.topk),
            single_shot_repeats=(self.sgs_repeats if self.protocol
                                 == 'cuhk03_single_shot' else 0),
            seed=self.seed,
            ranking_threads=self.ranking_threads)
        if self.rerank:
            distmat = k_reciprocal_rerank(q_feats, g_feats, self.k1, self.k2,
                                          self.lambda_value, self.distance)
            result = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams,
                                   **options)
        else:
            result = evaluate_rank_from_features(
                q_feats,
                g_feats,
                q_pids,
                g_pids,
                q_cams,
                g_cams,
                metric=self.distance,
                **options)

        if result['num_skipped_queries']:
            absent_note = (
                f'; {num_absent} of them have an identity absent from the '
                f'gallery (ids {_preview(absent)})' if absent else '')
            print_log(
                f'ReIDMetric: {result["num_skipped_queries"]} of '
                f'{len(query)} queries have no valid gallery match (a '
                'gallery image of their identity from another camera) and '
                f'are skipped{absent_note}',
                logger='current',
                level=logging.WARNING)
        cmc = result.get('single_shot_cmc', result['cmc'])
        # mAP first: CheckpointHook(save_best='auto') keeps the best of the
        # first metric and knows 'mAP' is better when greater.
        metrics = {}
        if 'mAP' in self.metrics:
            metrics['mAP'] = float(result['mAP'])
        if 'cmc' in self.metrics:
            for k in self.topk:
                metrics[f'rank{k}'] = float(cmc[k - 1])
        if 'mINP' in self.metrics:
            metrics['mINP'] = float(result['mINP'])
        return metrics
