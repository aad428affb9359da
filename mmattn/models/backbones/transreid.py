"""TransReID: mmpretrain's VisionTransformer made a Re-ID backbone.

METHODS.md section 7 (He et al., "TransReID", used by seed 001 as DCS-FB's
transformer backbone): overlapping patches, side-information (camera)
embedding and the jigsaw patch module (JPM).
"""
import copy
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import build_norm_layer, resize_pos_embed

from mmattn.registry import MODELS


def jigsaw_rearrange(patches: torch.Tensor, shift: int,
                     groups: int) -> torch.Tensor:
    """Shift then shuffle the patch tokens (TransReID's JPM).

    The tokens are rolled left by ``shift`` (token ``shift`` comes first),
    then split into ``groups`` consecutive groups and interleaved (token k of
    every group, then token k + 1 ...). When N is not a multiple of
    ``groups``, the last token is repeated to fill the final group.

    Args:
        patches (Tensor): (B, N, C) patch tokens, cls token excluded.
        shift (int): Shift of the tokens.
        groups (int): Number of shuffle groups.

    Returns:
        Tensor: (B, N', C), N' = N rounded up to a multiple of ``groups``.
    """
    B, N, C = patches.shape
    x = torch.roll(patches, shifts=-shift, dims=1)
    remainder = N % groups
    if remainder:
        x = torch.cat([x, x[:, -1:].expand(B, groups - remainder, C)], dim=1)
    return x.reshape(B, groups, -1, C).transpose(1, 2).reshape(B, -1, C)


@MODELS.register_module()
class TransReID(VisionTransformer):
    """TransReID backbone on mmpretrain's :class:`VisionTransformer`.

    - Overlapping patch embedding: a ``patch_size`` conv with stride
      ``stride`` and no padding (16 / 12 on 256 x 128 gives 21 x 10 patches).
    - Side information embedding (SIE): tokens + pos + ``sie_coef *
      sie_embed[camera]``, one learned (1, C) vector per camera. Cameras come
      as ``forward(x, camera_ids=...)`` or, when the backbone sits inside a
      wrapper whose forward takes only the image (``AttentionBackbone``),
      through :meth:`set_camera_ids` before the call (``TransReIDModel`` does
      this). Without camera ids the SIE term is left out.
    - Jigsaw patch module (JPM): the last transformer block is split off into
      two copies with their own final norm: ``jpm_global`` runs on all
      tokens (global feature) and ``jpm_local`` on each of ``num_parts``
      chunks of the shifted and shuffled patch tokens (see
      :func:`jigsaw_rearrange`), each chunk prefixed by the cls token that
      enters the last block. A chunk has ``N // num_parts`` tokens; the
      remainder is dropped, as in TransReID.

    The shared blocks are ``layers.0`` ... ``layers.{L-2}``, the JPM blocks
    ``jpm_global`` and ``jpm_local`` (mmpretrain ``TransformerEncoderLayer``),
    so DCS replaces every self-attention with
    ``replace=['layers.*.attn', 'jpm_*.attn']``.

    ImageNet weights: ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``
    with an mmpretrain ViT checkpoint (add ``prefix='backbone.'`` for a whole
    ``ImageClassifier`` checkpoint). Its last block and final norm
    (``layers.{L-1}``, ``ln1``) are copied into both JPM branches and its
    square position embedding is resized (``interpolate_mode``, bilinear
    as in TransReID) to the patch grid.

    Args:
        arch (str | dict): mmpretrain ViT arch (``'base'``, ``'deit-tiny'``
            ... or a dict). Defaults to ``'base'``.
        img_size (int | tuple): Training image size (H, W); fixes the
            position-embedding grid. Defaults to ``(256, 128)``.
        patch_size (int): Patch (kernel) size. Defaults to 16.
        stride (int): Patch stride; < ``patch_size`` overlaps.
            Defaults to 12.
        num_cameras (int): Cameras of the dataset; 0 disables SIE.
            Defaults to 0.
        sie_coef (float): Weight of the camera embedding. Defaults to 3.0.
        jpm (bool): Use the jigsaw patch module. Without it the output is
            the final-normed cls token only. Defaults to True.
        num_parts (int): Local branches of the JPM. Defaults to 4.
        shift (int): Token shift of the JPM. Defaults to 5.
        shuffle_groups (int): Shuffle groups of the JPM. Defaults to 2.
        drop_path_rate (float): Stochastic depth. Defaults to 0.1.
        interpolate_mode (str): Position-embedding resize mode.
            Defaults to ``'bilinear'``.
        **kwargs: Other arguments of ``VisionTransformer`` (``drop_rate``,
            ``qkv_bias``, ``norm_cfg``, ``layer_cfgs``, ``init_cfg`` ...).
            ``out_type``, ``out_indices``, ``final_norm``, ``with_cls_token``
            and ``patch_cfg`` are fixed by this class.

    Shapes:
        x: (B, 3, H, W); camera_ids: (B, ) ints in [0, num_cameras).
        Output: with JPM a tuple of ``1 + num_parts`` cls features
        ``(global, local_1, ..., local_P)``, each (B, C); without JPM
        ``(global, )``.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = (256, 128),
                 patch_size: int = 16,
                 stride: int = 12,
                 num_cameras: int = 0,
                 sie_coef: float = 3.0,
                 jpm: bool = True,
                 num_parts: int = 4,
                 shift: int = 5,
                 shuffle_groups: int = 2,
                 drop_path_rate: float = 0.1,
                 interpolate_mode: str = 'bilinear',
                 **kwargs):
        fixed = {
            'out_type', 'out_indices', 'final_norm', 'with_cls_token',
            'patch_cfg', 'pre_norm'
        } & set(kwargs)
        if fixed:
            raise ValueError(f'TransReID fixes {sorted(fixed)}; remove them '
                             'from the config')
        if isinstance(
                num_cameras,
                bool) or not isinstance(num_cameras, int) or num_cameras < 0:
            raise ValueError(f'num_cameras must be an int >= 0, got '
                             f'{num_cameras!r}')
        for name, value in (('num_parts', num_parts),
                            ('shuffle_groups', shuffle_groups), ('stride',
                                                                 stride)):
            if isinstance(value,
                          bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an int >= 1, got '
                                 f'{value!r}')
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            drop_path_rate=drop_path_rate,
            interpolate_mode=interpolate_mode,
            out_type='raw',
            final_norm=not jpm,
            patch_cfg=dict(stride=stride, padding=0),
            **kwargs)
        self.num_cameras = num_cameras
        self.sie_coef = float(sie_coef)
        self.jpm = jpm
        self.num_parts = num_parts
        self.shift = shift
        self.shuffle_groups = shuffle_groups
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        if jpm and num_patches < num_parts:
            raise ValueError(
                f'the {self.patch_resolution} patch grid has fewer than '
                f'num_parts={num_parts} tokens; use a larger img_size')

        if num_cameras > 0:
            self.sie_embed = nn.Parameter(
                torch.zeros(num_cameras, 1, self.embed_dims))
            trunc_normal_(self.sie_embed, std=.02)
        if jpm:
            # The last block moves to the JPM; both branches start from it.
            last = self.layers[-1]
            self.layers = self.layers[:-1]
            norm_cfg = kwargs.get('norm_cfg', dict(type='LN', eps=1e-6))
            self.jpm_global = last
            self.jpm_global_norm = build_norm_layer(norm_cfg, self.embed_dims)
            self.jpm_local = copy.deepcopy(last)
            self.jpm_local_norm = build_norm_layer(norm_cfg, self.embed_dims)
            self._register_load_state_dict_pre_hook(self._split_last_block)
        self._camera_ids = None

    def _split_last_block(self, state_dict, prefix, *args, **kwargs):
        """Map a plain ViT checkpoint onto the JPM branches: its last block
        and final norm go to both branches (an own checkpoint has no
        ``layers.{L-1}`` and passes unchanged)."""
        last = f'{prefix}layers.{self.num_layers - 1}.'
        moves = [(last, ('jpm_global.', 'jpm_local.')),
                 (f'{prefix}ln1.', ('jpm_global_norm.', 'jpm_local_norm.'))]
        for source, targets in moves:
            keys = [k for k in state_dict if k.startswith(source)]
            for key in keys:
                rest = key[len(source):]
                value = state_dict.pop(key)
                for target in targets:
                    state_dict.setdefault(prefix + target + rest, value)

    def train(self, mode: bool = True):
        # mmpretrain's BaseBackbone.train returns None; keep nn.Module's
        # chaining (``model.eval()`` returns the model).
        super().train(mode)
        return self

    def set_camera_ids(self, camera_ids: Optional[torch.Tensor]):
        """Camera ids for the following forward calls (None clears them).

        Args:
            camera_ids (Tensor, optional): (B, ) ints.
        """
        self._camera_ids = camera_ids

    def _camera_embedding(self, camera_ids, batch_size):
        if camera_ids is None or self.num_cameras == 0:
            return None
        camera_ids = torch.as_tensor(
            camera_ids, device=self.sie_embed.device).long().view(-1)
        if camera_ids.numel() != batch_size:
            raise ValueError(f'got {camera_ids.numel()} camera ids for a '
                             f'batch of {batch_size} images')
        if camera_ids.numel() and (int(camera_ids.min()) < 0 or int(
                camera_ids.max()) >= self.num_cameras):
            raise ValueError(
                f'camera ids must lie in [0, num_cameras={self.num_cameras}),'
                f' got {camera_ids.tolist()}; set the backbone num_cameras '
                'to the number of cameras of the dataset')
        return self.sie_coef * self.sie_embed[camera_ids]  # (B, 1, C)

    def forward(self,
                x: torch.Tensor,
                camera_ids: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, ...]:
        B = x.shape[0]
        x, patch_resolution = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens)
        sie = self._camera_embedding(
            self._camera_ids if camera_ids is None else camera_ids, B)
        if sie is not None:
            x = x + sie
        x = self.drop_after_pos(x)
        for layer in self.layers:
            x = layer(x)
        if not self.jpm:
            return (self.ln1(x)[:, 0], )

        global_feat = self.jpm_global_norm(self.jpm_global(x))[:, 0]
        cls_token = x[:, :1]
        patches = jigsaw_rearrange(x[:, 1:], self.shift, self.shuffle_groups)
        length = patches.shape[1] // self.num_parts
        # The parts run as one batch (B * P, 1 + length, C) through the
        # local branch.
        parts = patches[:, :length * self.num_parts].reshape(
            B, self.num_parts, length, -1)
        tokens = torch.cat(
            (cls_token[:, None].expand(-1, self.num_parts, -1, -1), parts),
            dim=2).flatten(0, 1)
        local_feats = self.jpm_local_norm(self.jpm_local(tokens))[:, 0]
        local_feats = local_feats.reshape(B, self.num_parts, -1)
        return (global_feat, *local_feats.unbind(1))
