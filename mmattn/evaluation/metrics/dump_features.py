"""Save the test features with their labels (tools/test.py --out)."""
import os.path as osp
from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmattn.registry import METRICS

#: Data-sample fields holding a test feature, by task (Re-ID / face:
#: ``pred_feature``, local descriptors: ``pred_descriptor``).
FEATURE_KEYS = ('pred_feature', 'pred_descriptor')


def _first_int(value, default: int) -> int:
    if value is None:
        return default
    return int(torch.as_tensor(value).view(-1)[0])


@METRICS.register_module()
class DumpFeatures(BaseMetric):
    """Write every test sample's feature and labels to a ``.npz`` file (no
    pickle), in dataset order: ``features`` (N, D) and the per-sample
    ``labels`` (identity / class, -1 if none), ``camera_ids`` (-1 if none)
    and ``is_query`` (False if none).

    Args:
        out_file (str): Path of the ``.npz`` file; must not exist yet.
        collect_device (str): Where results are gathered across ranks.
    """

    def __init__(self, out_file: str, collect_device: str = 'cpu'):
        super().__init__(collect_device=collect_device)
        if not out_file.endswith('.npz'):
            raise ValueError(
                f'DumpFeatures: out_file {out_file!r} must end with .npz')
        if osp.exists(out_file):
            raise FileExistsError(
                f'DumpFeatures: {out_file!r} exists; not overwriting it')
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            key = next((k for k in FEATURE_KEYS if k in sample), None)
            if key is None:
                raise KeyError(
                    'DumpFeatures: the model output has none of '
                    f'{FEATURE_KEYS}; --out needs a feature-extracting model')
            self.results.append(
                (sample[key].float().cpu().numpy().reshape(-1),
                 _first_int(sample.get('gt_label'),
                            -1), _first_int(sample.get('camera_id'), -1),
                 bool(sample.get('is_query', False))))

    def compute_metrics(self, results: list) -> dict:
        feats, labels, cams, is_query = zip(*results)
        np.savez(
            self.out_file,
            features=np.stack(feats),
            labels=np.asarray(labels),
            camera_ids=np.asarray(cams),
            is_query=np.asarray(is_query))
        return {}
