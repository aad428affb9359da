"""Class selectivity index per layer, with and without attention (seed 004
section 4.8, after Morcos et al. 2018).

Runs every image of the test (or ``--split``) set of CONFIG through each
model, averages each residual block's output channels over the positions,
and computes each channel's class selectivity
``(mu_max - mu_-max) / (mu_max + mu_-max)`` from its class-conditional
means (see :mod:`mmattn.analysis.selectivity`); a layer's index is the mean
over its channels. The second model (``--config2`` / ``--checkpoint2``,
e.g. the same network + AutoLA / SE) is measured on the same images. Layers
are matched by their path from ``layerN`` on, so a plain ResNet-20 and one
wrapped by AttentionBackbone line up. Writes ``<name>.png`` (index per
layer, one line per model) and ``<name>.json`` (per layer: mean, std, live
and dead units, per-unit indices).

Example:
    python tools/analysis_tools/class_selectivity.py \
        configs/classification/resnet20_cifar10.py work_dirs/r20.pth \
        --config2 configs/classification/hoga_resnet20_cifar10.py \
        --checkpoint2 work_dirs/r20_autola.pth \
        --labels ResNet-20 "ResNet-20 + AutoLA" --out-dir work_dirs/selectivity
"""
import argparse
import os.path as osp
import re

import torch
from matplotlib.figure import Figure
from mmengine.config import DictAction

from mmattn.analysis.selectivity import (BLOCK_PATTERN, find_layers,
                                         layer_selectivity,
                                         layer_unit_activations)
from mmattn.apis import build_dataset, init_model, load_config, preprocess
from mmattn.visualization import ImageWriter, add_tool_arguments


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser, checkpoint='optional')
    parser.add_argument('--config2', help='second model (default: CONFIG)')
    parser.add_argument(
        '--checkpoint2',
        help='checkpoint of the second '
        'model (default: its initial weights)')
    parser.add_argument(
        '--cfg-options2',
        nargs='+',
        action=DictAction,
        help='overrides of the second config')
    parser.add_argument(
        '--labels',
        nargs='+',
        help='model names in the '
        'figure (default: the config file names)')
    parser.add_argument(
        '--layers',
        nargs='+',
        default=(),
        help='module paths of the first model (default: '
        'every residual block); the second model uses the '
        'paths that end the same from layerN on')
    parser.add_argument(
        '--split', default='test', choices=['train', 'val', 'test'])
    parser.add_argument(
        '--max-images',
        type=int,
        default=None,
        help='first N images of the set (default: all)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--name', default='class_selectivity')
    return parser.parse_args(argv)


def layer_key(name):
    """``backbone.backbone.layer2.1`` -> ``layer2.1``."""
    match = re.search(r'(^|\.)(layer\d+.*)$', name)
    return match.group(2) if match else name


def dataset_batches(model, dataset, count, batch_size):
    for start in range(0, count, batch_size):
        yield preprocess(
            model,
            [dataset[i] for i in range(start, min(start + batch_size, count))])


def measure(model, dataset, count, batch_size, names):
    layers = find_layers(model, names)
    acts = layer_unit_activations(
        model, layers, dataset_batches(model, dataset, count, batch_size))
    return {layer_key(n): a for n, a in acts.items()}


def draw(results, labels):
    fig = Figure(figsize=(6, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    keys = list(results[0])
    for result, label in zip(results, labels):
        ax.plot(
            range(len(keys)), [result[k]['mean'] for k in keys],
            'o-',
            label=label)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, rotation=60, fontsize=7)
    ax.set_ylabel('class selectivity index')
    ax.set_xlabel('layer')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name], [args.name])
    specs = [(cfg, args.checkpoint, args.config)]
    if args.config2 or args.checkpoint2:
        cfg2 = load_config(args.config2 or cfg.copy(), args.cfg_options2)
        specs.append((cfg2, args.checkpoint2, args.config2 or args.config))
    labels = args.labels or [
        osp.splitext(osp.basename(s[2]))[0] for s in specs
    ]
    if len(labels) != len(specs):
        raise SystemExit(f'--labels needs {len(specs)} names, got '
                         f'{len(labels)}')
    dataset = build_dataset(cfg, args.split)
    count = len(dataset) if args.max_images is None else min(
        args.max_images, len(dataset))
    if count < 2:
        raise SystemExit(f'the {args.split} set has {count} images; the '
                         'index needs images of at least two classes')
    labels_t = torch.tensor(
        [int(dataset.get_data_info(i)['gt_label']) for i in range(count)])
    num_classes = int(labels_t.max()) + 1
    results, names = [], args.layers
    for spec_cfg, checkpoint, _ in specs:
        model = init_model(spec_cfg, checkpoint, device=args.device)
        if results and args.layers:
            # The second model's paths ending like the first model's.
            wanted = {layer_key(n) for n in args.layers}
            names = [
                n for n, _ in model.named_modules()
                if layer_key(n) in wanted and re.search(r'layer\d', n)
            ]
        acts = measure(model, dataset, count, args.batch_size, names)
        results.append(layer_selectivity(acts, labels_t, num_classes))
    if len(results) == 2 and list(results[0]) != list(results[1]):
        raise SystemExit(
            'the two models have different layers: '
            f'{list(results[0])} vs {list(results[1])}; pass --layers')
    print(f'{"layer":<12}' + ''.join(f'{label:>24}' for label in labels))
    for key in results[0]:
        print(f'{key:<12}' + ''.join(f'{r[key]["mean"]:>24.4f}'
                                     for r in results))
    print(writer.write_figure(args.name, draw(results, labels)))
    report = dict(
        split=args.split,
        images=count,
        num_classes=num_classes,
        layer_pattern=None if args.layers else BLOCK_PATTERN,
        models=[
            dict(label=label, config=s[2], checkpoint=s[1], layers=r)
            for label, s, r in zip(labels, specs, results)
        ])
    print(writer.write_json(args.name, report))
    return report


if __name__ == '__main__':
    main()
