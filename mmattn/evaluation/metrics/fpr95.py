"""False-positive rate at 95% recall, the Brown patch-verification metric."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from mmattn.registry import METRICS


def fpr_at_recall(distances: np.ndarray,
                  is_match: np.ndarray,
                  recall: float = 0.95) -> float:
    """False-positive rate at the first threshold reaching ``recall``.

    A pair is declared a match when its distance is at most a threshold t.
    t is the smallest distance at which at least ``recall`` of the matching
    pairs are declared (the ``ceil(recall * P)``-th smallest matching
    distance); the result is the fraction of non-matching pairs with a
    distance <= t. Ties at t therefore count as declared matches, so the
    value does not depend on the order of equal distances.

    Args:
        distances (np.ndarray): (M, ) pair distances.
        is_match (np.ndarray): (M, ) bool ground truth.
        recall (float): Target true-positive rate in (0, 1].

    Returns:
        float: The false-positive rate in [0, 1].
    """
    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    is_match = np.asarray(is_match).astype(bool).reshape(-1)
    if distances.shape != is_match.shape:
        raise ValueError('fpr_at_recall: distances and is_match must have '
                         f'the same length, got {distances.shape} and '
                         f'{is_match.shape}')
    if not 0.0 < recall <= 1.0:
        raise ValueError(f'fpr_at_recall: recall must be in (0, 1], got '
                         f'{recall!r}')
    positives = np.sort(distances[is_match])
    negatives = distances[~is_match]
    if len(positives) == 0 or len(negatives) == 0:
        raise ValueError('fpr_at_recall: needs both matching and '
                         f'non-matching pairs, got {len(positives)} and '
                         f'{len(negatives)}')
    # ceil(recall * P) without float round-off for e.g. 0.95 * 100.
    needed = int(np.ceil(round(recall * len(positives), 9)))
    threshold = positives[max(needed, 1) - 1]
    return float((negatives <= threshold).mean())


@METRICS.register_module()
class FPR95Metric(BaseMetric):
    """FPR at 95% recall of patch pairs (Brown and Lowe 2007 protocol).

    Each data sample (from :class:`PatchDescriptor`'s ``predict``) carries
    ``pred_distance`` and ``is_match``; the metric is computed per Brown
    sequence (the ``sequence`` metainfo) and averaged over sequences. Values
    are percentages, as in the papers' tables (seed 002 table 7).

    Args:
        recall (float): Target recall. Defaults to 0.95.
        collect_device (str): Device used to collect results across ranks.
        prefix (str, optional): Defaults to ``'brown'``.

    Logged keys: ``brown/fpr95`` (mean over sequences) and
    ``brown/fpr95_<sequence>`` when there are several sequences.
    """
    default_prefix: Optional[str] = 'brown'

    def __init__(self,
                 recall: float = 0.95,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0.0 < recall <= 1.0:
            raise ValueError(f'FPR95Metric: recall must be in (0, 1], got '
                             f'{recall!r}')
        self.recall = recall
        self.name = f'fpr{round(recall * 100):d}'

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [
                key for key in ('pred_distance', 'is_match')
                if key not in sample
            ]
            if missing:
                raise KeyError(f'FPR95Metric: data sample lacks {missing}; '
                               'the model must predict pair distances '
                               '(PatchDescriptor on patch pairs)')
            self.results.append(
                dict(
                    distance=float(torch.as_tensor(sample['pred_distance'])),
                    is_match=bool(torch.as_tensor(sample['is_match'])),
                    sequence=sample.get('sequence', 'all')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        grouped = defaultdict(lambda: ([], []))
        for record in results:
            distances, labels = grouped[record['sequence']]
            distances.append(record['distance'])
            labels.append(record['is_match'])
        metrics = {}
        for sequence, (distances, labels) in sorted(grouped.items()):
            metrics[f'{self.name}_{sequence}'] = 100.0 * fpr_at_recall(
                np.asarray(distances), np.asarray(labels), self.recall)
        mean = float(np.mean(list(metrics.values())))
        if len(metrics) == 1:
            metrics = {}
        metrics[self.name] = mean
        return metrics
