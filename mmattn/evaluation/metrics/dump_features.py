"""Save the test features with their identities and cameras (tools/test.py --out)."""
import os.path as osp
from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmattn.registry import METRICS


@METRICS.register_module()
class DumpReIDFeatures(BaseMetric):
    """Write ``pred_feature``, person id, camera and query flag of every test
    sample to a ``.npz`` file (no pickle): arrays ``features`` (N, D),
    ``pids`` (N,), ``camera_ids`` (N,), ``is_query`` (N,), in dataset order.

    Args:
        out_file (str): Path of the ``.npz`` file; must not exist yet.
        collect_device (str): Where results are gathered across ranks.
    """

    def __init__(self, out_file: str, collect_device: str = 'cpu'):
        super().__init__(collect_device=collect_device)
        if not out_file.endswith('.npz'):
            raise ValueError(
                f'DumpReIDFeatures: out_file {out_file!r} must end with .npz')
        if osp.exists(out_file):
            raise FileExistsError(
                f'DumpReIDFeatures: {out_file!r} exists; not overwriting it')
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                (sample['pred_feature'].float().cpu().numpy(),
                 int(torch.as_tensor(sample['gt_label']).view(-1)[0]),
                 int(sample['camera_id']), bool(sample['is_query'])))

    def compute_metrics(self, results: list) -> dict:
        feats, pids, cams, is_query = zip(*results)
        np.savez(
            self.out_file,
            features=np.stack(feats),
            pids=np.asarray(pids),
            camera_ids=np.asarray(cams),
            is_query=np.asarray(is_query))
        return {}
