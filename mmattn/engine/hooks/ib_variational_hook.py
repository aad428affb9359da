"""The per-epoch variational update of the IB bound (DCS, seed 001)."""
import copy
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmattn.models.losses.ib_loss import (IBBoundLoss, centroids_from_sums,
                                          class_sums, mutual_information,
                                          soft_cluster_logits)
from mmattn.models.search import searched_network
from mmattn.registry import HOOKS

SOURCES = ('pass', 'training')
_CKPT_KEY = 'ib_variational_hook'


@HOOKS.register_module()
class IBVariationalHook(Hook):
    """Recompute the IB centroids and the table Q, switch the IB term on.

    The epoch's statistics (METHODS.md section 2), all-reduced across
    ranks:

    - input centroids: class means of the L2-normalised input
      representation (the preprocessed image average-pooled to
      ``input_size`` and flattened, test pipeline) and every sample's
      ``phi_in``;
    - output centroids: class means of the L2-normalised feature W of the
      head (``ReIDHeadWithIB.ib_feature``), every sample's ``phi_out`` and
      ``Q[a, y] = mean_{i: y_i = y} phi_out(i)_a``;
    - for the log (seed 001 table V): I(X;W) and I(W;Y) of the normalised
      soft joint histograms ``sum_i phi_in(i) phi_out(i)^T`` and
      ``sum_i phi_out(i) onehot(y_i)^T``, ``IB = I(X;W) - I(W;Y)`` and the
      mean of both forms of the bound (``IBB_reconstructed``,
      ``IBB_separable``; ``IBB`` is the trained one, see
      :class:`IBBoundLoss`).

    Where W comes from (``source``):

    - ``'pass'``: before every ``interval``-th epoch, a no-grad pass (eval
      mode) over the training set with the test pipeline: the input and
      output statistics of the network as it stands. About a third of an
      epoch's compute again.
    - ``'training'``: the W the training forward passes of the epoch before
      already computed (train mode, the training pipeline and sampler: each
      visit of a sample counts once), recorded by the head and turned into
      the tables after the epoch. The input scores do not depend on the
      network and are computed once, by an input-only pass (no network) at
      the start. A full pass runs only if an epoch needs the tables before
      any epoch produced them (``warmup_ratio = 0``). The tables lag the
      weights by up to one epoch of updates.

    The installed tables go into every checkpoint (a few KB: centroids and
    Q; the input scores are recomputed from the data), so a resumed training
    uses exactly the tables the uninterrupted one would.

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
        source (str): ``'training'`` (default) or ``'pass'``, see above.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 warmup_ratio: float = 0.3,
                 input_size: Sequence[int] = (16, 8),
                 dataloader: Optional[dict] = None,
                 interval: int = 1,
                 source: str = 'training'):
        if not 0 <= warmup_ratio < 1:
            raise ValueError('IBVariationalHook: warmup_ratio must lie in '
                             f'[0, 1), got {warmup_ratio!r}')
        if len(input_size) != 2 or any(int(v) < 1 for v in input_size):
            raise ValueError('IBVariationalHook: input_size must be (h, w), '
                             f'got {input_size!r}')
        if isinstance(interval,
                      bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError('IBVariationalHook: interval must be a positive '
                             f'int, got {interval!r}')
        if source not in SOURCES:
            raise ValueError(f'IBVariationalHook: source must be one of '
                             f'{SOURCES}, got {source!r}')
        self.warmup_ratio = float(warmup_ratio)
        self.input_size = tuple(int(v) for v in input_size)
        self.dataloader_cfg = dataloader
        self.interval = interval
        self.source = source
        self.last_stats: Dict[str, float] = {}
        self._loader = None
        # source='training': the input-only pass, and the epoch's records.
        self._inputs: Optional[Dict[str, torch.Tensor]] = None
        self._records: Optional[List[list]] = None
        self._resumed: Optional[dict] = None
        self._input_cache: Dict[int, torch.Tensor] = {}

    # -- set-up ----------------------------------------------------------
    @staticmethod
    def ib_heads(model) -> List[torch.nn.Module]:
        """Modules of ``model`` with an :class:`IBBoundLoss` ``loss_ib``."""
        return [
            m for m in model.modules()
            if isinstance(getattr(m, 'loss_ib', None), IBBoundLoss)
        ]

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
        heads = self.ib_heads(network)
        if not heads:
            raise ValueError(
                'IBVariationalHook: the model has no head with an '
                "IBBoundLoss (use head=dict(type='ReIDHeadWithIB', ...))")
        if not callable(getattr(network, 'extract_feat', None)):
            raise TypeError('IBVariationalHook: the model needs '
                            'extract_feat(inputs) -> (pre_bn, post_bn)')
        self._loader = runner.build_dataloader(
            self._loader_cfg(runner), seed=runner.seed)
        self.warmup_epochs = int(self.warmup_ratio * runner.max_epochs)
        self._input_cache = {}
        if self.source == 'training':
            self._inputs = self._collect(network, None)
        if self._resumed is not None and runner.epoch > 0:
            self._restore(network, heads, self._resumed)
        self._resumed = None

    # -- the pass ----------------------------------------------------------
    @torch.no_grad()
    def _collect(self, network, head) -> Dict[str, torch.Tensor]:
        """Input representations (and, with a ``head``, its W) of the
        training set, in eval mode; ``head=None`` runs no network."""
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
                if head is not None:
                    feats.append(
                        head.ib_features(network.extract_feat(inputs)).float())
                samples = data['data_samples']
                labels.append(torch.cat([s.gt_label for s in samples]))
                index += [int(s.sample_idx) for s in samples]
        finally:
            network.train(was_training)
        device = reps[0].device
        return dict(
            reps=torch.cat(reps),
            feats=torch.cat(feats) if feats else None,
            labels=torch.cat(labels).to(device).long(),
            index=torch.as_tensor(index, device=device))

    @staticmethod
    def _check_labels(labels: torch.Tensor, k: int) -> None:
        if int(labels.max()) >= k or int(labels.min()) < 0:
            raise ValueError(
                f'IBVariationalHook: labels must lie in [0, {k}) '
                f'(IBBoundLoss.num_classes), got {int(labels.min())}..'
                f'{int(labels.max())}')

    def _input_scores(self, data: Dict[str, torch.Tensor], loss: IBBoundLoss):
        """``phi_in`` of every pass row and of every dataset index."""
        k = loss.num_classes
        labels = data['labels']
        self._check_labels(labels, k)
        reps = F.normalize(data['reps'], dim=1)
        in_sums = class_sums(reps, labels, k)
        all_reduce(in_sums, op='sum')
        phi_in = soft_cluster_logits(reps, centroids_from_sums(in_sums),
                                     loss.beta).softmax(1)
        # By dataset index; a sample on several ranks (a padded sampler) is
        # averaged, one no rank saw gets the uniform distribution.
        num_samples = len(self._loader.dataset)
        input_scores = phi_in.new_zeros(num_samples, k)
        hits = phi_in.new_zeros(num_samples)
        input_scores.index_add_(0, data['index'], phi_in)
        hits.index_add_(0, data['index'], hits.new_ones(len(data['index'])))
        all_reduce(input_scores, op='sum')
        all_reduce(hits, op='sum')
        input_scores = input_scores / hits.clamp(min=1)[:, None]
        input_scores[hits == 0] = 1.0 / k
        return phi_in, input_scores

    @staticmethod
    def _output_tables(feats: torch.Tensor, labels: torch.Tensor,
                       phi_in: torch.Tensor, input_scores: torch.Tensor,
                       loss: IBBoundLoss) -> Dict[str, float]:
        """Centroids and Q from W, installed in ``loss``; the statistics.

        Args:
            feats (Tensor): W of this rank's rows, (n, D).
            labels (Tensor): (n, ).
            phi_in (Tensor): Input scores of the rows, (n, A).
            input_scores (Tensor): Input scores by dataset index, (N, A).
            loss (IBBoundLoss): Receives the tables.
        """
        k = loss.num_classes
        feats = F.normalize(feats.float(), dim=1)
        counts = torch.bincount(labels, minlength=k).float()
        out_sums = class_sums(feats, labels, k)
        all_reduce(counts, op='sum')
        all_reduce(out_sums, op='sum')
        out_centroids = centroids_from_sums(out_sums)
        logits = soft_cluster_logits(feats, out_centroids, loss.beta)
        phi_out = logits.softmax(1)

        # Q[a, y]: mean phi_out over class y; a class without samples
        # gets the uniform distribution.
        by_class = class_sums(phi_out, labels, k)  # (Y, A)
        all_reduce(by_class, op='sum')
        table = (by_class / counts.clamp(min=1)[:, None]).t()
        table[:, counts == 0] = 1.0 / k

        joint_xw = phi_in.t() @ phi_out
        all_reduce(joint_xw, op='sum')
        loss.update_(out_centroids, table, input_scores)
        bounds = loss.bounds(phi_out, phi_in, labels, logits.log_softmax(1))
        totals = torch.stack([
            bounds['reconstructed'].sum(), bounds['separable'].sum(),
            phi_out.new_tensor(float(len(labels)))
        ])
        all_reduce(totals, op='sum')
        n = totals[2].clamp(min=1)
        i_xw = mutual_information(joint_xw)
        i_wy = mutual_information(by_class.t())
        stats = dict(
            I_XW=i_xw,
            I_WY=i_wy,
            IB=i_xw - i_wy,
            IBB_reconstructed=float(totals[0] / n),
            IBB_separable=float(totals[1] / n))
        stats['IBB'] = stats[f'IBB_{loss.bound_form}']
        return stats

    @torch.no_grad()
    def update(self, runner) -> Dict[str, float]:
        """Run the pass, install the tables, return the IB statistics."""
        network = searched_network(runner.model)
        stats = {}
        for head in self.ib_heads(network):
            data = self._collect(network, head)
            phi_in, input_scores = self._input_scores(data, head.loss_ib)
            stats = self._output_tables(data['feats'], data['labels'], phi_in,
                                        input_scores, head.loss_ib)
        return stats

    # -- source='training' ------------------------------------------------
    def _fixed_input_scores(self, head) -> torch.Tensor:
        """``phi_in`` by dataset index from the input-only pass, computed
        once per head (it does not depend on the network)."""
        key = id(head)
        if key not in self._input_cache:
            self._input_cache[key] = self._input_scores(
                self._inputs, head.loss_ib)[1]
        return self._input_cache[key]

    def _start_recording(self, heads) -> None:
        self._records = [[] for _ in heads]
        for head, records in zip(heads, self._records):
            head.loss_ib.recorder = (
                lambda w, y, i, records=records: records.append(
                    (w.float(), y, i)))

    @torch.no_grad()
    def _finish_recording(self, heads) -> Dict[str, float]:
        """Tables and statistics from the recorded training batches."""
        records, self._records = self._records, None
        stats = {}
        for head, rows in zip(heads, records):
            loss = head.loss_ib
            loss.recorder = None
            if not rows:
                raise RuntimeError(
                    'IBVariationalHook: no training batch reached '
                    f'{type(head).__name__}.loss this epoch (source='
                    "'training' needs the head's ib_loss in the training "
                    'forward)')
            feats = torch.cat([w for w, _, _ in rows])
            labels = torch.cat([y for _, y, _ in rows]).long()
            index = torch.cat([i for _, _, i in rows]).long()
            self._check_labels(labels, loss.num_classes)
            input_scores = self._fixed_input_scores(head).to(feats.device)
            stats = self._output_tables(feats, labels, input_scores[index],
                                        input_scores, loss)
        return stats

    # -- epochs ------------------------------------------------------------
    def _log(self, runner, stats: Dict[str, float], epoch: int,
             when: str) -> None:
        """Log the statistics of the tables used from ``epoch`` (0-based,
        the visualizer's step); ``when`` says where they come from."""
        self.last_stats = stats
        runner.logger.info(f'IB {when}: ' +
                           ', '.join(f'{key}={value:.5f}'
                                     for key, value in stats.items()))
        for key, value in stats.items():
            runner.message_hub.update_scalar(f'train/ib_{key}', value)
        runner.visualizer.add_scalars(
            {
                f'ib/{key}': value
                for key, value in stats.items()
            }, step=epoch)

    def before_train_epoch(self, runner) -> None:
        network = searched_network(runner.model)
        heads = self.ib_heads(network)
        active = runner.epoch >= self.warmup_epochs
        ready = all(h.loss_ib.ready for h in heads)
        if self.source == 'pass':
            run_pass = runner.epoch % self.interval == 0 or not ready
        else:
            # Only when an epoch needs the tables before any produced them.
            run_pass = active and not ready
        if run_pass:
            self._log(runner, self.update(runner), runner.epoch,
                      f'before epoch {runner.epoch + 1}')
        if self.source == 'training' and (runner.epoch +
                                          1) % self.interval == 0:
            self._start_recording(heads)
        for head in heads:
            head.loss_ib.active = active

    def after_train_epoch(self, runner) -> None:
        if self._records is None:
            return
        heads = self.ib_heads(searched_network(runner.model))
        self._log(runner, self._finish_recording(heads), runner.epoch + 1,
                  f'after epoch {runner.epoch + 1} (its training batches)')

    # -- checkpoints -------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        heads = self.ib_heads(searched_network(runner.model))
        checkpoint[_CKPT_KEY] = dict(
            source=self.source,
            last_stats=dict(self.last_stats),
            tables=[
                dict(
                    output_centroids=h.loss_ib.output_centroids.cpu(),
                    table=h.loss_ib.table.cpu()) if h.loss_ib.ready else None
                for h in heads
            ])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Installed in before_train, once the input scores exist, and only
        # when the run resumes (a checkpoint loaded to start a new training
        # recomputes its tables).
        self._resumed = checkpoint.get(_CKPT_KEY)

    def _restore(self, network, heads, state: dict) -> None:
        tables = state.get('tables') or []
        if len(tables) != len(heads):
            raise ValueError(
                f'IBVariationalHook: the checkpoint holds IB tables of '
                f'{len(tables)} heads, the model has {len(heads)}')
        for head, saved in zip(heads, tables):
            if saved is None:
                continue
            if self._inputs is None:
                self._inputs = self._collect(network, None)
            head.loss_ib.update_(saved['output_centroids'], saved['table'],
                                 self._fixed_input_scores(head))
        self.last_stats = dict(state.get('last_stats') or {})
