"""Parameters and FLOPs of a model, with the attention counted.

mmengine's analysis (:class:`mmengine.analysis.FlopAnalyzer`, the fvcore jit
tracer) has no handle for ``aten::scaled_dot_product_attention``: every fused
attention (DCS, the non-local baseline, every ViT block) counts zero and only
a logged warning says so. :func:`count_complexity` adds the handles the
attention modules of mmattn need and returns what stays uncounted instead of
dropping it.

Convention (that of mmengine, fvcore and the seed papers' tables): one
multiply-add is one FLOP. Convolutions (depth-wise and grouped ones included),
linear layers and matrix products count their multiply-adds; batch norm in
eval mode counts 1 (2 with the affine part) per element, layer / group norm 5,
adaptive average pooling 1 per input element, bilinear upsampling 4 per output
element. The added handles:

* ``aten::scaled_dot_product_attention`` with query (..., L, E), key
  (..., S, E) and value (..., S, Ev): the two products ``Q K^T`` and ``A V``,
  ``prod(...) * L * S * (E + Ev)``. Scaling, masking, softmax and dropout are
  element-wise and, like every element-wise op, not counted.
* ``aten::baddbmm`` / ``aten::addbmm``: the batched product, like ``bmm``.
* a multiply whose product is summed at once (``(w * v).sum(dim)``, the
  dynamic K x K aggregation of StRA's local attention after ``F.unfold``):
  counted on the ``aten::sum`` as one multiply-add per summed element,
  ``numel(input)``.
  A ``sum`` that follows no multiply (a plain reduction) counts the same
  additions.
* ``aten::mean`` (``x.mean(dim=(2, 3))``, the pooling of SE / CBAM / the
  HOGA primitives) and ``aten::avg_pool2d``: one per input element, like
  mmengine's ``adaptive_avg_pool2d``.

Element-wise ops (add, mul, sigmoid, softmax, ...) and data movement
(unfold, gather, index_select, pad, ...) are not counted; the first are
listed in ``uncounted_ops`` with their number of calls so that nothing is
dropped silently, the second are cost-free by this convention and ignored.
"""
import os.path as osp
from collections import Counter
from typing import Any, Dict, List, Sequence, Union

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import bmm_flop_jit, get_shape
from mmengine.analysis.print_helper import _format_size, complexity_stats_table
from mmengine.config import Config

__all__ = [
    'count_complexity', 'build_model_from_cfg', 'TensorPath', 'sdpa_flop_jit',
    'reduction_flop_jit', 'ATTENTION_FLOP_HANDLES', 'COST_FREE_OPS'
]


def _prod(values):
    out = 1
    for v in values:
        out *= int(v)
    return out


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention``: ``Q K^T`` + ``A V``.

    Args:
        inputs (list): The traced op's inputs, ``query`` (..., L, E), ``key``
            (..., S, E), ``value`` (..., S, Ev), then the options.
        outputs (list): The output, (..., L, Ev) (batch dims broadcast).

    Returns:
        int: ``prod(...) * L * S * (E + Ev)`` multiply-adds.
    """
    query, key, value = (get_shape(v) for v in inputs[:3])
    out = get_shape(outputs[0])
    if None in (query, key, value, out):
        raise ValueError('scaled_dot_product_attention traced without shapes')
    length, embed = query[-2], query[-1]
    source = key[-2]
    value_dims = value[-1]
    batch = _prod(out[:-2])
    return batch * length * source * (embed + value_dims)


def baddbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::baddbmm(input, batch1, batch2)``: the ``bmm``."""
    return bmm_flop_jit(inputs[1:3], outputs)


def addbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::addbmm(input, batch1, batch2)``: (b, n, m) @
    (b, m, p) summed over b, ``b * n * m * p``."""
    batch1, batch2 = get_shape(inputs[1]), get_shape(inputs[2])
    return batch1[0] * batch1[1] * batch1[2] * batch2[2]


def reduction_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::sum``: one per summed element.

    After an element-wise multiply this is the multiply-add count of the
    product-and-sum (``numel(input)``), e.g. StRA's dynamic-kernel
    aggregation ``(weights * unfolded_values).sum(dim)``.
    """
    shape = get_shape(inputs[0])
    return _prod(shape) if shape is not None else 0


ATTENTION_FLOP_HANDLES = {
    'aten::scaled_dot_product_attention': sdpa_flop_jit,
    'aten::baddbmm': baddbmm_flop_jit,
    'aten::addbmm': addbmm_flop_jit,
    'aten::sum': reduction_flop_jit,
    # x.mean(dim=(2, 3)) is the global average pooling of SE / CBAM / the
    # HOGA primitives: counted like mmengine's adaptive_avg_pool2d.
    'aten::mean': reduction_flop_jit,
    # OSNet's transition pooling: one per input element, like mmengine's
    # adaptive_avg_pool2d.
    'aten::avg_pool2d': reduction_flop_jit,
}

# Data movement, shape and bookkeeping ops: no arithmetic, ignored knowingly
# (on top of mmengine's own list of such ops).
COST_FREE_OPS = frozenset({
    'aten::im2col', 'aten::col2im', 'aten::index_select', 'aten::gather',
    'aten::scatter', 'aten::repeat', 'aten::expand_as', 'aten::view_as',
    'aten::flip', 'aten::pad', 'aten::reflection_pad2d',
    'aten::replication_pad2d', 'aten::pixel_shuffle', 'aten::channel_shuffle',
    'aten::rand', 'aten::rand_like', 'aten::randn', 'aten::randn_like',
    'aten::where', 'aten::lt', 'aten::le', 'aten::ne', 'aten::zero_',
    'aten::fill_', 'aten::clone', 'aten::alias', 'aten::linspace',
    'aten::meshgrid', 'aten::ones_like', 'aten::empty_like', 'aten::numel',
    'aten::dim', 'aten::len', 'aten::list', 'aten::__getitem__',
    'aten::movedim', 'aten::swapaxes', 'aten::unflatten', 'aten::masked_fill_',
    'aten::lift_fresh', 'aten::detach_', 'aten::resolve_conj',
    'aten::resolve_neg', 'aten::feature_dropout', 'aten::dropout_',
    'aten::bernoulli_', 'aten::tensor', 'aten::scalar_tensor',
    'prim::PythonOp._StraightThrough', 'aten::logical_and', 'aten::logical_or',
    'aten::logical_not', 'aten::any', 'aten::all', 'aten::argmax',
    'aten::topk', 'aten::sort', 'aten::argsort'
})


class TensorPath(nn.Module):
    """Runs a model's tensor path on one image batch.

    Args:
        model (nn.Module): An mmengine ``BaseModel`` (called with
            ``mode='tensor'``) or a bare module (called on the tensor).

    Shapes:
        x: (B, C, H, W) -> whatever the model's tensor path returns.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        from mmengine.model import BaseModel
        if isinstance(self.model, BaseModel):
            return self.model(x, mode='tensor')
        return self.model(x)


def build_model_from_cfg(cfg: Union[str, dict, Config],
                         cfg_options: dict = None) -> nn.Module:
    """Build ``cfg.model`` under the config's default scope, in eval mode.

    Args:
        cfg (str | dict | Config): A config file path, a ``Config`` or a
            dict with a ``model`` key.
        cfg_options (dict, optional): Keys merged into the config first
            (e.g. ``{'model.backbone.last_stride': 1}``).

    Returns:
        nn.Module: The model, in eval mode.
    """
    from mmengine.registry import init_default_scope

    from mmattn.registry import MODELS, register_all_modules
    if isinstance(cfg, str):
        if not osp.isfile(cfg):
            raise FileNotFoundError(f'config file not found: {cfg}')
        cfg = Config.fromfile(cfg)
    elif isinstance(cfg, dict) and not isinstance(cfg, Config):
        cfg = Config(dict(cfg))
    elif not isinstance(cfg, Config):
        raise TypeError('cfg must be a config path, a dict or a Config, got '
                        f'{type(cfg).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ValueError('the config has no "model" key')
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmattn'))
    model = MODELS.build(cfg.model)
    model.eval()
    return model


def _input_shape(input_shape: Sequence[int]):
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = (3, ) + shape
    if len(shape) != 3 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1
            for s in shape):
        raise ValueError('input_shape must be (H, W) or (C, H, W) of '
                         f'positive ints, got {input_shape!r}')
    return shape


def count_complexity(model_or_cfg: Union[nn.Module, str, dict, Config],
                     input_shape: Sequence[int] = (224, 224),
                     *,
                     cfg_options: dict = None,
                     show_table: bool = False) -> Dict[str, Any]:
    """Parameters and FLOPs of a model on a batch of one image.

    The traced path is the model's ``forward(x, mode='tensor')`` for an
    mmengine ``BaseModel`` (backbone + neck (+ head logits for a classifier);
    the test embedding for the Re-ID models), the plain forward for a bare
    module. Parameters are those of the whole model. See the module
    docstring for the FLOP convention and the handles added to mmengine's.

    Args:
        model_or_cfg (nn.Module | str | dict | Config): A model, or a config
            (file path, ``Config`` or dict with a ``model`` key) to build.
        input_shape (Sequence[int]): ``(H, W)`` (3 channels) or
            ``(C, H, W)``. Defaults to ``(224, 224)``.
        cfg_options (dict, optional): Config keys to override when a config
            is given. Defaults to None.
        show_table (bool): Also return mmengine's per-module table in
            ``out_table``. Defaults to False.

    Returns:
        dict: ``params`` (int), ``flops`` (int, multiply-adds),
        ``uncounted_ops`` (dict ``{aten op: number of calls}`` of the
        element-wise and unsupported ops that carry arithmetic but are not
        counted), ``flops_by_operator`` (dict), ``params_str``,
        ``flops_str`` and ``out_table`` (empty unless ``show_table``).
    """
    if isinstance(model_or_cfg, nn.Module):
        if cfg_options:
            raise ValueError('cfg_options only applies to a config, not to '
                             'an already built model')
        model = model_or_cfg
    else:
        model = build_model_from_cfg(model_or_cfg, cfg_options)
    shape = _input_shape(input_shape)
    param = next(model.parameters(), None)
    device = param.device if param is not None else 'cpu'
    inputs = torch.zeros(1, *shape, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(TensorPath(model), (inputs, ))
            analyzer.set_op_handle(**ATTENTION_FLOP_HANDLES)
            analyzer.set_op_handle(**{op: None for op in COST_FREE_OPS})
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            flops = analyzer.total()
            uncounted = Counter(analyzer.unsupported_ops())
            by_operator = dict(analyzer.by_operator())
            table = ''
            if show_table:
                table = '\n' + complexity_stats_table(
                    flops=analyzer, show_param_shapes=True)
    finally:
        model.train(was_training)
    params = parameter_count(model)['']
    return dict(
        params=params,
        flops=flops,
        uncounted_ops=dict(sorted(uncounted.items())),
        flops_by_operator=by_operator,
        params_str=_format_size(params),
        flops_str=_format_size(flops),
        out_table=table)
