"""PCB / PCB-RPP Re-ID model with optional deep supervision of attention
modules (seed 002, figure 4 and eq. 8)."""
from functools import partial
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from ..injection import describe_paths, injected_attentions, path_matches
from .reid import ReID


@MODELS.register_module()
class PCBReID(ReID):
    """Part-based Re-ID: backbone -> part pooling neck -> :class:`PCBHead`.

    The neck is :class:`PartPooling` (PCB) or :class:`RefinedPartPooling`
    (PCB-RPP); the test feature is the head's concatenated part features,
    L2-normalised (``head.test_feature`` chooses reduced or pooled parts).

    With ``deep_supervision``, forward hooks collect the outputs of the
    supervised modules (by default every attention module injected into the
    backbone, e.g. the three CSA modules after layer1-3) during the loss
    forward, and one auxiliary head per module adds its loss:
    ``L = L_main + lambda * sum_i L_aux_i`` (seed 002 eq. 8; lambda is the
    auxiliary head's ``loss_weight``). At test time the auxiliary heads are
    not used.

    Args:
        backbone (dict): Backbone config, e.g. a last-stride-1 ResNet-50 or
            an ``AttentionBackbone`` around it.
        neck (dict): Part pooling config.
        head (dict): :class:`PCBHead` config.
        deep_supervision (dict, optional): ``head`` (config of the auxiliary
            head, e.g. ``dict(type='CSADeepSupervisionHead',
            num_classes=751, loss_weight=1.0)``; ``in_channels`` is taken from
            each module's ``in_channels`` when not given) and optionally
            ``paths`` (module-path patterns in this model, matched segment
            by segment like ``'backbone.backbone.layer*.attention'``;
            defaults to every injected attention module). Loss keys are
            ``loss_ds1``, ``loss_ds2``, ... in module order.
        flip_test (bool): Add the features of the flipped image before
            normalising.
        data_preprocessor (dict, optional): Defaults to
            ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, 3, H, W); features: (B, P * D).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 deep_supervision: Optional[dict] = None,
                 flip_test: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            flip_test=flip_test,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not hasattr(self.head, 'test_features'):
            raise TypeError(
                'PCBReID: head must give part test features (PCBHead), got '
                f'{type(self.head).__name__}')
        self.ds_paths: List[str] = []
        self.ds_heads = nn.ModuleList()
        # Outputs of the supervised modules, filled only during loss().
        self._ds_outputs: Optional[Dict[str, torch.Tensor]] = None
        if deep_supervision is not None:
            self._build_deep_supervision(deep_supervision)

    def _build_deep_supervision(self, cfg: dict):
        if not isinstance(cfg, dict) or 'head' not in cfg or set(cfg) - {
                'head', 'paths'}:
            raise ValueError(
                'PCBReID: deep_supervision must be a dict with a "head" '
                f'config and optionally "paths", got {cfg!r}')
        modules = dict(self.named_modules())
        if cfg.get('paths') is None:
            prefix = 'backbone.'
            paths = [prefix + p for p in injected_attentions(self.backbone)]
            if not paths:
                raise ValueError(
                    'PCBReID: deep_supervision has no paths and the backbone '
                    'has no injected attention module; give '
                    'deep_supervision.paths')
        else:
            patterns = cfg['paths']
            patterns = [patterns] if isinstance(patterns, str) else patterns
            paths = [p for p in modules
                     if any(path_matches(pat, p) for pat in patterns)]
            if not paths:
                raise ValueError(
                    f'PCBReID: deep_supervision.paths {patterns} match no '
                    f'module; module paths: {describe_paths(list(modules))}')
        for path in paths:
            module = modules[path]
            head_cfg = dict(cfg['head'])
            if 'in_channels' not in head_cfg:
                channels = getattr(module, 'in_channels', None)
                if not isinstance(channels, int):
                    raise ValueError(
                        f'PCBReID: cannot infer the channels of {path!r} '
                        f'({type(module).__name__}); give '
                        'deep_supervision.head.in_channels')
                head_cfg['in_channels'] = channels
            self.ds_paths.append(path)
            self.ds_heads.append(MODELS.build(head_cfg))
            module.register_forward_hook(partial(self._store_output, path))

    def _store_output(self, path, module, args, output):
        if self._ds_outputs is not None:
            self._ds_outputs[path] = output

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        self._ds_outputs = {}
        try:
            feats = self.extract_feat(inputs)
            outputs = self._ds_outputs
        finally:
            self._ds_outputs = None
        losses = self.head.loss(feats, data_samples)
        for index, (path, head) in enumerate(
                zip(self.ds_paths, self.ds_heads), start=1):
            if path not in outputs:
                raise RuntimeError(
                    f'PCBReID: the supervised module {path!r} did not run in '
                    'the forward pass')
            for key, value in head.loss(outputs[path], data_samples).items():
                losses[f'{key}{index}'] = value
        return losses

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised concatenated part features (B, P * D)."""
        feats = self.head.test_features(self.extract_feat(inputs))
        if self.flip_test:
            feats = feats + self.head.test_features(
                self.extract_feat(inputs.flip(3)))
        return F.normalize(feats, dim=1)
