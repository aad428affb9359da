"""The per-epoch variational update of the IB bound (DCS, seed 001)."""
import copy
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmattn.models.losses.ib_loss import (IBBoundLoss, centroids_from_sums,
                                          class_sums, mutual_information,
                                          soft_cluster_scores)
from mmattn.models.search import searched_network
from mmattn.registry import HOOKS


@HOOKS.register_module()
class IBVariationalHook(Hook):
    """Recompute the IB centroids and the table Q, switch the IB term on.

    Before every epoch a no-grad pass (eval mode) over the training set
    computes, all-reduced across ranks (METHODS.md section 2):

    - input centroids: class means of the L2-normalised input
      representation (the preprocessed image average-pooled to
      ``input_size`` and flattened) and every sample's ``phi_in``;
    - output centroids: class means of the L2-normalised feature W of the
      head (``ReIDHeadWithIB.ib_feature``), every sample's ``phi_out`` and
      ``Q[a, y] = mean_{i: y_i = y} phi_out(i)_a``;
    - for the log (seed 001 table V): I(X;W) and I(W;Y) of the normalised
      soft joint histograms ``sum_i phi_in(i) phi_out(i)^T`` and
      ``sum_i phi_out(i) onehot(y_i)^T``, ``IB = I(X;W) - I(W;Y)`` and the
      bound IBB (mean L_IBB over the training set).

    The IB term is off for the first ``warmup_ratio`` of the epochs.

    Args:
        warmup_ratio (float): Fraction of the epochs without the IB term.
            Defaults to 0.3.
        input_size (tuple[int, int]): (h, w) of the input representation.
            Defaults to (16, 8).
        dataloader (dict, optional): Loader of the pass. Defaults to
            ``train_dataloader`` with ``DefaultSampler(shuffle=False)`` and
            the pipeline of ``test_dataloader`` (no augmentation).
        interval (int): Recompute every ``interval`` epochs. Defaults to 1.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 warmup_ratio: float = 0.3,
                 input_size: Sequence[int] = (16, 8),
                 dataloader: Optional[dict] = None,
                 interval: int = 1):
        if not 0 <= warmup_ratio < 1:
            raise ValueError('IBVariationalHook: warmup_ratio must lie in '
                             f'[0, 1), got {warmup_ratio!r}')
        if len(input_size) != 2 or any(int(v) < 1 for v in input_size):
            raise ValueError('IBVariationalHook: input_size must be (h, w), '
                             f'got {input_size!r}')
        if isinstance(interval, bool) or not isinstance(
                interval, int) or interval < 1:
            raise ValueError('IBVariationalHook: interval must be a positive '
                             f'int, got {interval!r}')
        self.warmup_ratio = float(warmup_ratio)
        self.input_size = tuple(int(v) for v in input_size)
        self.dataloader_cfg = dataloader
        self.interval = interval
        self.last_stats: Dict[str, float] = {}
        self._loader = None

    # -- set-up ----------------------------------------------------------
    @staticmethod
    def ib_heads(model) -> List[torch.nn.Module]:
        """Modules of ``model`` with an :class:`IBBoundLoss` ``loss_ib``."""
        return [m for m in model.modules()
                if isinstance(getattr(m, 'loss_ib', None), IBBoundLoss)]

    def _loader_cfg(self, runner) -> dict:
        if self.dataloader_cfg is not None:
            return copy.deepcopy(self.dataloader_cfg)
        cfg = copy.deepcopy(runner.cfg.get('train_dataloader'))
        test_cfg = runner.cfg.get('test_dataloader') or runner.cfg.get(
            'val_dataloader')
        if cfg is None or test_cfg is None:
            raise ValueError('IBVariationalHook: give dataloader=..., or a '
                             'config with train_dataloader and '
                             'test_dataloader')
        cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
        cfg['dataset']['pipeline'] = copy.deepcopy(
            test_cfg['dataset']['pipeline'])
        cfg.pop('batch_sampler', None)
        return cfg

    def before_train(self, runner) -> None:
        network = searched_network(runner.model)
        if not self.ib_heads(network):
            raise ValueError(
                'IBVariationalHook: the model has no head with an '
                "IBBoundLoss (use head=dict(type='ReIDHeadWithIB', ...))")
        if not callable(getattr(network, 'extract_feat', None)):
            raise TypeError('IBVariationalHook: the model needs '
                            'extract_feat(inputs) -> (pre_bn, post_bn)')
        self._loader = runner.build_dataloader(
            self._loader_cfg(runner), seed=runner.seed)
        self.warmup_epochs = int(self.warmup_ratio * runner.max_epochs)

    # -- the pass ----------------------------------------------------------
    @torch.no_grad()
    def _collect(self, network, head) -> Dict[str, torch.Tensor]:
        was_training = network.training
        network.eval()
        reps, feats, labels, index = [], [], [], []
        try:
            for batch in self._loader:
                data = network.data_preprocessor(batch, False)
                inputs = data['inputs']
                reps.append(
                    F.adaptive_avg_pool2d(inputs.float(),
                                          self.input_size).flatten(1))
                feats.append(
                    head.ib_features(network.extract_feat(inputs)).float())
                samples = data['data_samples']
                labels.append(torch.cat([s.gt_label for s in samples]))
                index += [int(s.sample_idx) for s in samples]
        finally:
            network.train(was_training)
        device = feats[0].device
        return dict(
            reps=torch.cat(reps), feats=torch.cat(feats),
            labels=torch.cat(labels).to(device).long(),
            index=torch.as_tensor(index, device=device))

    @torch.no_grad()
    def update(self, runner) -> Dict[str, float]:
        """Run the pass, install the tables, return the IB statistics."""
        network = searched_network(runner.model)
        stats = {}
        for head in self.ib_heads(network):
            stats = self._update_head(network, head)
        return stats

    def _update_head(self, network, head) -> Dict[str, float]:
        loss: IBBoundLoss = head.loss_ib
        k = loss.num_classes
        data = self._collect(network, head)
        labels = data['labels']
        if int(labels.max()) >= k or int(labels.min()) < 0:
            raise ValueError(
                f'IBVariationalHook: labels must lie in [0, {k}) '
                f'(IBBoundLoss.num_classes), got {int(labels.min())}..'
                f'{int(labels.max())}')
        reps = F.normalize(data['reps'], dim=1)
        feats = F.normalize(data['feats'], dim=1)
        counts = torch.bincount(labels, minlength=k).float()
        in_sums = class_sums(reps, labels, k)
        out_sums = class_sums(feats, labels, k)
        for tensor in (counts, in_sums, out_sums):
            all_reduce(tensor, op='sum')
        phi_in = soft_cluster_scores(reps, centroids_from_sums(in_sums),
                                     loss.beta)
        out_centroids = centroids_from_sums(out_sums)
        phi_out = soft_cluster_scores(feats, out_centroids, loss.beta)

        # Q[a, y]: mean phi_out over class y; a class without samples
        # gets the uniform distribution.
        by_class = class_sums(phi_out, labels, k)  # (Y, A)
        all_reduce(by_class, op='sum')
        table = (by_class / counts.clamp(min=1)[:, None]).t()
        table[:, counts == 0] = 1.0 / k

        # phi_in of every training sample, by dataset index.
        num_samples = len(self._loader.dataset)
        input_scores = phi_in.new_zeros(num_samples, k)
        hits = phi_in.new_zeros(num_samples)
        input_scores.index_add_(0, data['index'], phi_in)
        hits.index_add_(0, data['index'],
                        hits.new_ones(len(data['index'])))
        all_reduce(input_scores, op='sum')
        all_reduce(hits, op='sum')
        input_scores = input_scores / hits.clamp(min=1)[:, None]
        input_scores[hits == 0] = 1.0 / k

        joint_xw = phi_in.t() @ phi_out
        all_reduce(joint_xw, op='sum')
        loss.update_(out_centroids, table, input_scores)
        bound = loss.bound(phi_out, phi_in, labels)
        totals = torch.stack([bound.sum(), bound.new_tensor(len(bound))])
        all_reduce(totals, op='sum')
        i_xw = mutual_information(joint_xw)
        i_wy = mutual_information(by_class.t())
        return dict(I_XW=i_xw, I_WY=i_wy, IB=i_xw - i_wy,
                    IBB=float(totals[0] / totals[1].clamp(min=1)))

    def before_train_epoch(self, runner) -> None:
        network = searched_network(runner.model)
        heads = self.ib_heads(network)
        if runner.epoch % self.interval == 0 or not all(
                h.loss_ib.ready for h in heads):
            self.last_stats = self.update(runner)
            runner.logger.info(
                f'IB before epoch {runner.epoch + 1}: ' + ', '.join(
                    f'{key}={value:.5f}'
                    for key, value in self.last_stats.items()))
            for key, value in self.last_stats.items():
                runner.message_hub.update_scalar(f'train/ib_{key}', value)
            runner.visualizer.add_scalars(
                {f'ib/{key}': value for key, value in self.last_stats.items()},
                step=runner.epoch)
        active = runner.epoch >= self.warmup_epochs
        for head in heads:
            head.loss_ib.active = active
