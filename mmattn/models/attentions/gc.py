"""GCNet's global context block as an mmattn attention (seed 004 table 5).

mmcv ships the block (:class:`mmcv.cnn.ContextBlock`, Cao et al. 2019); this
file only gives it the ``in_channels`` interface of the other attentions, so
``AttentionBackbone`` can put it into residual blocks, and keeps it the
identity at initialisation under a parent's blanket init.
"""
from mmcv.cnn import ContextBlock

from mmattn.registry import MODELS


@MODELS.register_module()
class GlobalContextAttention(ContextBlock):
    """Global context (GC) block: attention pooling -> bottleneck transform
    -> broadcast add (GCNet, "GC-ResNet-50, r16, all stages").

    Args:
        in_channels (int): Channels C of the input.
        ratio (float): Bottleneck ratio C' / C of the transform. Defaults to
            1/16 (GCNet's r16, the setting of its ResNet-50 28.08 M row).
        pooling_type (str): ``'att'`` (softmax attention pooling) or
            ``'avg'``. Defaults to ``'att'``.
        fusion_types (tuple[str]): ``'channel_add'`` and / or
            ``'channel_mul'``. Defaults to ``('channel_add', )``.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 ratio: float = 1. / 16,
                 pooling_type: str = 'att',
                 fusion_types: tuple = ('channel_add', )):
        valid = ('channel_add', 'channel_mul')
        if pooling_type not in ('att', 'avg'):
            raise ValueError('GlobalContextAttention: pooling_type must be '
                             f"'att' or 'avg', got {pooling_type!r}")
        if not fusion_types or any(f not in valid for f in fusion_types):
            raise ValueError('GlobalContextAttention: fusion_types must be a '
                             f'non-empty subset of {valid}, got '
                             f'{fusion_types!r}')
        if not 0 < ratio <= 1 or int(in_channels * ratio) < 1:
            raise ValueError(
                f'GlobalContextAttention: ratio {ratio!r} gives '
                f'{int(in_channels * ratio)} bottleneck channels for '
                f'in_channels={in_channels}; need at least 1')
        super().__init__(in_channels, ratio, pooling_type, tuple(fusion_types))

    def init_weights(self):
        # A parent's Kaiming init of every conv (mmpretrain ResNet) would
        # undo the zero init of the transforms' last conv: redo it, so an
        # inserted channel_add block starts as the identity (a channel_mul
        # gate starts at sigmoid(0) = 0.5, as in GCNet).
        self.reset_parameters()
