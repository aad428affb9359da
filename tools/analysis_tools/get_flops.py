"""Parameters and FLOPs of the model of any mmattn config.

Counts with mmengine's analysis (``mmengine.analysis``, the fvcore-style jit
tracer), so attention modules injected into a backbone are counted like
every other layer. The traced path is the model's ``forward(inputs,
mode='tensor')``: backbone + neck + head logits for an ``ImageClassifier``,
backbone + neck (the test embedding) for the Re-ID model; a bare backbone
config runs its plain forward. Parameters are those of the whole model
(e.g. the classifier of a Re-ID head, which the test path skips, counts).
As in mmengine (and the seed papers' tables), one multiply-add is one FLOP;
mmengine also counts normalisation and pooling per element.

Examples::

    python tools/analysis_tools/get_flops.py \
        configs/attentions/dcs_mobilenet-v2.py
    python tools/analysis_tools/get_flops.py \
        configs/reid/resnet50_b64_market1501.py --shape 256 128
    python tools/analysis_tools/get_flops.py CONFIG --cfg-options \
        model.backbone.last_stride=1 --show-table
"""
import argparse

import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Count the parameters and FLOPs of a config\'s model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[224, 224],
        help='input height and width (one value: square). Default 224 224; '
        'Re-ID models usually take 256 128')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.backbone.widen_factor=0.5')
    parser.add_argument(
        '--show-table',
        action='store_true',
        help='also print the per-module table of mmengine')
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2 or min(args.shape) < 1:
        parser.error(f'--shape takes H W (or one size), got {args.shape}')
    return args


class TensorPath(nn.Module):
    """Runs a model's tensor path on one image batch.

    Args:
        model (nn.Module): An mmengine ``BaseModel`` (called with
            ``mode='tensor'``) or a bare backbone (called on the tensor).

    Shapes:
        x: (B, 3, H, W) -> whatever the model's tensor path returns.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        from mmengine.model import BaseModel
        if isinstance(self.model, BaseModel):
            return self.model(x, mode='tensor')
        return self.model(x)


def build_model(cfg):
    """Build ``cfg.model`` under the config's default scope (mmattn)."""
    from mmattn.registry import MODELS, register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmattn'))
    if 'model' not in cfg:
        raise ValueError('the config has no "model" key')
    model = MODELS.build(cfg.model)
    model.eval()
    return model


def count_complexity(model, shape):
    """Parameters and FLOPs of ``model`` on a (1, 3, H, W) input.

    Args:
        model (nn.Module): Model (see :class:`TensorPath`).
        shape (Sequence[int]): ``(H, W)``.

    Returns:
        dict: mmengine's result (``flops``, ``params``, ``flops_str``,
        ``params_str``, ``out_table`` ...).
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else 'cpu'
    inputs = torch.zeros(1, 3, *shape, device=device)
    with torch.no_grad():
        return get_model_complexity_info(
            TensorPath(model),
            inputs=(inputs, ),
            show_table=True,
            show_arch=False)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg)
    result = count_complexity(model, args.shape)
    height, width = args.shape
    split = '=' * 40
    if args.show_table:
        print(result['out_table'])
    print(f'{split}\nInput shape: (1, 3, {height}, {width})\n'
          f'Flops: {result["flops_str"]} ({result["flops"]})\n'
          f'Params: {result["params_str"]} ({result["params"]})\n{split}')
    return result


if __name__ == '__main__':
    main()
