"""Face verification accuracy, k-fold threshold selection (LFW protocol)."""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from mmattn.registry import METRICS

#: The default cosine thresholds: ArcFace's squared-distance grid
#: ``d2 = 0, 0.01, ..., 3.99`` on unit features, where ``d2 = 2 - 2 cos``.
DEFAULT_THRESHOLDS = tuple(1.0 - np.arange(0, 4, 0.01) / 2)


def kfold_verification_accuracy(scores: np.ndarray, labels: np.ndarray,
                                folds: np.ndarray,
                                thresholds: np.ndarray) -> dict:
    """k-fold verification accuracy of similarity scores.

    For each fold, the threshold with the best accuracy on the other folds
    is chosen (the first of the ``thresholds`` on ties) and the accuracy of
    "same person iff score > threshold" is measured on the fold.

    Args:
        scores (np.ndarray): (P,) similarity of each pair.
        labels (np.ndarray): (P,) 1 for same-person pairs, 0 otherwise.
        folds (np.ndarray): (P,) fold index of each pair, ``0..k-1``.
        thresholds (np.ndarray): (T,) candidate thresholds.

    Returns:
        dict: ``fold_accuracy`` (k,) and ``fold_threshold`` (k,).
    """
    labels = labels.astype(bool)
    # (T, P): whether each threshold classifies each pair correctly.
    correct = (scores[None] > thresholds[:, None]) == labels[None]
    fold_ids = np.unique(folds)
    if len(fold_ids) < 2:
        raise ValueError('FaceVerificationMetric: need at least 2 folds to '
                         'choose thresholds on held-out folds, got '
                         f'{len(fold_ids)}')
    accuracy, chosen = [], []
    for fold in fold_ids:
        test = folds == fold
        best = int(correct[:, ~test].mean(axis=1).argmax())
        chosen.append(thresholds[best])
        accuracy.append(correct[best, test].mean())
    return dict(
        fold_accuracy=np.array(accuracy), fold_threshold=np.array(chosen))


@METRICS.register_module()
class FaceVerificationMetric(BaseMetric):
    """Face verification accuracy (seed 003 section 5.2, the LFW protocol).

    The model's ``predict`` gives one L2-normalised ``pred_feature`` per
    image (image + flipped image, concatenated). The pairs come from the
    verification dataset's ``metainfo['verification']`` (see
    :mod:`mmattn.datasets.face`), which mmengine hands to the metric as
    ``dataset_meta``. Each pair is scored by the cosine similarity of its
    two features; 10-fold cross validation (the dataset's folds) picks the
    threshold with the best accuracy on the 9 training folds and measures
    the accuracy on the held-out one. With unit features this is the same
    as thresholding the Euclidean distance in ``[0, 4]`` as ArcFace and
    seed 003 do: the default grid is ArcFace's, in cosine form.

    Reported (with ``<name>`` the dataset's, e.g. ``lfw``):
    ``<name>/accuracy`` and ``<name>/accuracy_std`` (mean and population
    std over the folds, in %) and ``<name>/threshold`` (mean chosen cosine
    threshold).

    Args:
        thresholds (Sequence[float], optional): Candidate cosine thresholds,
            tried in the given order (the first wins ties). Defaults to
            :data:`DEFAULT_THRESHOLDS`.
        collect_device (str): Device used to collect results across ranks.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None (the dataset name already prefixes them).
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
        thresholds = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        if thresholds.size == 0 or not np.isfinite(thresholds).all():
            raise ValueError('FaceVerificationMetric: thresholds must be a '
                             'non-empty sequence of finite numbers')
        self.thresholds = thresholds

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [
                k for k in ('pred_feature', 'sample_idx') if k not in sample
            ]
            if missing:
                raise KeyError(
                    f'FaceVerificationMetric: data sample lacks {missing}; '
                    "the model's predict must set 'pred_feature' and the "
                    "pipeline's PackInputs keep 'sample_idx'")
            feature = torch.as_tensor(sample['pred_feature']).detach()
            if feature.dim() != 1:
                raise ValueError('FaceVerificationMetric: pred_feature must '
                                 'be a 1-D tensor per sample, got shape '
                                 f'{tuple(feature.shape)}')
            self.results.append(
                (int(sample['sample_idx']), feature.cpu().double()))

    def compute_metrics(self, results: List[tuple]) -> dict:
        meta = (self.dataset_meta or {}).get('verification')
        if meta is None:
            raise ValueError(
                "FaceVerificationMetric: dataset_meta has no 'verification' "
                'entry; evaluate on a verification dataset (LFWPairs, '
                'FacePairList)')
        features = dict(results)
        pairs = np.asarray(meta['pairs'], dtype=np.int64).reshape(-1, 2)
        needed = np.unique(pairs)
        absent = [int(i) for i in needed if int(i) not in features]
        if absent:
            raise ValueError(
                f'FaceVerificationMetric: no feature for {len(absent)} '
                f'images of the pairs (e.g. index {absent[0]}); evaluate '
                'the whole verification dataset')
        first = torch.stack([features[int(i)] for i in pairs[:, 0]])
        second = torch.stack([features[int(i)] for i in pairs[:, 1]])
        scores = torch.nn.functional.cosine_similarity(
            first, second, dim=1).numpy()
        result = kfold_verification_accuracy(scores,
                                             np.asarray(meta['labels']),
                                             np.asarray(meta['folds']),
                                             self.thresholds)
        name = meta['name']
        accuracy = result['fold_accuracy'] * 100
        return {
            f'{name}/accuracy': float(accuracy.mean()),
            f'{name}/accuracy_std': float(accuracy.std()),
            f'{name}/threshold': float(result['fold_threshold'].mean()),
        }
