"""Parameters and FLOPs of the model of any mmattn config.

A command line over :func:`mmattn.analysis.count_complexity` (mmengine's
``FlopAnalyzer`` with handles for the attention operators mmengine lacks:
``scaled_dot_product_attention``, ``baddbmm``, multiply-then-sum products,
mean pooling). The traced path is the model's ``forward(inputs,
mode='tensor')``: backbone + neck + head logits for an ``ImageClassifier``,
backbone + neck (the test embedding) for the Re-ID model; a bare backbone
config runs its plain forward. Parameters are those of the whole model (e.g.
the classifier of a Re-ID head, which the test path skips, counts). As in
mmengine and the seed papers' tables, one multiply-add is one FLOP. The ops
that carry arithmetic but are not counted (element-wise ones: add, sigmoid,
softmax ...) are printed after the totals, with their number of calls.

Examples::

    python tools/analysis_tools/get_flops.py \
        configs/attentions/dcs_mobilenet-v2.py
    python tools/analysis_tools/get_flops.py \
        configs/reid/resnet50_b64_market1501.py --shape 256 128
    python tools/analysis_tools/get_flops.py CONFIG --cfg-options \
        model.backbone.last_stride=1 --show-table
"""
import argparse

from mmengine.config import Config, DictAction

from mmattn.analysis import TensorPath, build_model_from_cfg, count_complexity

__all__ = ['TensorPath', 'build_model', 'count_complexity', 'main']


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


def build_model(cfg):
    """Build ``cfg.model`` under the config's default scope (mmattn), in
    eval mode."""
    return build_model_from_cfg(cfg)


def format_uncounted(uncounted_ops):
    """One line listing the uncounted ops, e.g. ``aten::add x 14``."""
    if not uncounted_ops:
        return 'Not counted: nothing'
    ops = ', '.join(f'{op} x {n}' for op, n in uncounted_ops.items())
    return f'Not counted (element-wise / unsupported ops, calls): {ops}'


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg)
    result = count_complexity(
        model, tuple(args.shape), show_table=args.show_table)
    height, width = args.shape
    split = '=' * 40
    if args.show_table:
        print(result['out_table'])
    print(f'{split}\nInput shape: (1, 3, {height}, {width})\n'
          f'Flops: {result["flops_str"]} ({result["flops"]})\n'
          f'Params: {result["params_str"]} ({result["params"]})\n'
          f'{format_uncounted(result["uncounted_ops"])}\n{split}')
    return result


if __name__ == '__main__':
    main()
