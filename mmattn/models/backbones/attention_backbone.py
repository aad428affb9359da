"""A stock backbone with attention modules injected by module path."""
import copy

from mmengine.model import BaseModule

from mmattn.registry import MODELS
from ..injection import inject_attention, injected_attentions

_POSITION_KEYS = ('after', 'in_blocks', 'replace')


@MODELS.register_module()
class AttentionBackbone(BaseModule):
    """Build a backbone, then inject attention modules into it.

    The config names the backbone and the attentions separately, so any
    attention on any backbone is a config edit::

        backbone=dict(
            type='AttentionBackbone',
            backbone=dict(type='MobileNetV2', widen_factor=1.0,
                          out_indices=(7, )),
            attentions=[
                dict(cfg=dict(type='DCSAttention'),
                     after=['layer2', 'layer3']),
                dict(cfg=dict(type='SEAttention'), in_blocks='layer*.*'),
            ])

    The forward is the wrapped backbone's, so it stands wherever that backbone
    did (mmpretrain ``ImageClassifier``, the mmattn Re-ID model, or an
    mmdet/mmpose config as ``mmattn.AttentionBackbone`` with
    ``custom_imports=dict(imports=['mmattn'])``).

    Args:
        backbone (dict): Config of the backbone, built by ``MODELS`` under the
            current default scope.
        attentions (Sequence[dict]): Injections, applied in order. Each has
            ``cfg`` (the attention config) and exactly one of ``after``,
            ``in_blocks``, ``replace`` (module-path patterns, see
            :func:`mmattn.models.injection.inject_attention`), and optionally
            ``dummy_input_shape``.
        dummy_input_shape (Sequence[int]): Input of the dry forward that
            infers channels where the modules' metadata do not.
            Defaults to ``(1, 3, 224, 224)``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone,
                 attentions=(),
                 dummy_input_shape=(1, 3, 224, 224),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(backbone, dict):
            raise TypeError(
                f'backbone must be a config dict, got {type(backbone)}')
        if not isinstance(attentions, (list, tuple)):
            raise TypeError('attentions must be a list of dicts, got '
                            f'{type(attentions).__name__}')
        self.backbone = MODELS.build(backbone)
        for index, spec in enumerate(attentions):
            self._inject(index, spec, dummy_input_shape)

    def _inject(self, index, spec, dummy_input_shape):
        if not isinstance(spec, dict) or 'cfg' not in spec:
            raise ValueError(f'attentions[{index}] must be a dict with a '
                             f"'cfg' key, got {spec!r}")
        unknown = set(spec) - {'cfg', 'dummy_input_shape', *_POSITION_KEYS}
        positions = [key for key in _POSITION_KEYS if key in spec]
        if unknown or len(positions) != 1:
            raise ValueError(
                f'attentions[{index}] takes cfg, dummy_input_shape and '
                f'exactly one of {_POSITION_KEYS}; got keys {sorted(spec)}')
        inject_attention(
            self.backbone,
            spec['cfg'],
            dummy_input_shape=spec.get('dummy_input_shape', dummy_input_shape),
            **{positions[0]: spec[positions[0]]})

    def injected_attentions(self):
        """Path (inside ``backbone``) -> injected attention module."""
        return injected_attentions(self.backbone)

    def arch_parameters(self):
        """Architecture parameters of the wrapped backbone (e.g. the FBNetV2
        supernet's Gumbel logits) and of every injected module that has
        them, each once."""
        params, seen = [], set()
        sources = [self.backbone, *self.injected_attentions().values()]
        for module in sources:
            if not hasattr(module, 'arch_parameters'):
                continue
            for param in module.arch_parameters():
                if id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        return params

    def carry_(self):
        """Call ``carry_()`` of every injected module that has one (DA's
        integer/decimal carry, after each architecture step)."""
        for module in self.injected_attentions().values():
            if hasattr(module, 'carry_'):
                module.carry_()

    def init_weights(self):
        # The backbone's init_cfg (e.g. mmpretrain ResNet's Kaiming for every
        # Conv2d and Constant 1 for every BN) also reaches the injected
        # modules, which would undo their own init (zero-initialised output
        # BN, mask bias): put their construction-time weights back.
        attentions = self.injected_attentions()
        states = {
            path: copy.deepcopy(module.state_dict())
            for path, module in attentions.items()
        }
        super().init_weights()
        # After a checkpoint load (here or in the wrapped backbone, e.g. an
        # ImageNet ViT whose attention DCS replaced) the loaded weights stay;
        # a Pretrained init applies no blanket init to undo.
        if _loads_pretrained(self.init_cfg) or _loads_pretrained(
                getattr(self.backbone, 'init_cfg', None)):
            return
        for path, module in attentions.items():
            module.load_state_dict(states[path])
            if isinstance(module, BaseModule) and module.init_cfg:
                module.is_init = False
                module.init_weights()

    def forward(self, x):
        """The wrapped backbone's forward."""
        return self.backbone(x)


def _loads_pretrained(init_cfg):
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'
        for cfg in cfgs)
