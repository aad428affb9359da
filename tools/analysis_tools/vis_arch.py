"""Pictures of searched architectures.

From a model (CONFIG [CHECKPOINT]):
- DA: ``da_windows.png`` (the windows of every module over its channel
  axis, seed 000 figure 4), ``da_feature_map_<i>.png`` (a test image's
  input feature map of each DA module with the selected channels boxed,
  figure 3), ``da_window_lengths.png`` (histograms before / after merging,
  figures 5-6), ``da_window_stats.png`` and ``.md`` (tables 8-9);
- HOGA: ``hoga_genotype_<i>.png``, each distinct genotype as its DAG
  (seed 004 figure 3; search models: the argmax genotype);
- FBNetV2 supernet: ``fbnetv2_channels.png``, the chosen channels per block.

From files, without a model: ``--arch-json`` (a genotype dict
``{num_groups, edges}`` or an FBNetV2 arch ``{stages | blocks}``) and
``--genotype NAME`` (a named genotype, e.g. ``autola``).

Example:
    python tools/analysis_tools/vis_arch.py \
        configs/attentions/hoga_resnet50.py --genotype autola \
        --out-dir work_dirs/arch
"""
import argparse
import json
import os.path as osp

import torch
from mmengine.config import DictAction

from mmattn.apis import build_dataset, init_model, load_config, preprocess
from mmattn.models.attentions import (HOGA_GENOTYPES, ChannelWindowAttention,
                                      FixedChannelWindowAttention, Genotype)
from mmattn.visualization import (WINDOW_TABLE_HEADER, ImageWriter,
                                  collect_genotypes, collect_window_stats,
                                  fbnet_arch_from_model,
                                  format_markdown_table,
                                  plot_channel_windows, plot_fbnet_channels,
                                  plot_genotype, plot_table,
                                  plot_window_feature_map,
                                  plot_window_length_histograms,
                                  window_stats_table)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', help='config file (optional '
                        'with --arch-json / --genotype)')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint (default: the initial weights)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--overwrite', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-visualizer', action='store_true',
                        help="PNG files only, not the config's visualiser")
    parser.add_argument('--arch-json', nargs='+', default=[],
                        help='exported HOGA genotype or FBNetV2 arch files')
    parser.add_argument('--genotype', nargs='+', default=[],
                        choices=sorted(HOGA_GENOTYPES),
                        help='named HOGA genotypes to draw')
    parser.add_argument('--no-feature-map', action='store_true',
                        help='skip the DA feature-map figures (they need '
                        'the test set)')
    return parser.parse_args()


def da_feature_maps(model, cfg):
    """Input feature map (C, H, W) of every DA module on the first test
    image, keyed by module path."""
    dataset = build_dataset(cfg, 'test')
    captured = {}

    def keep_input(name):
        def hook(module, inputs):
            # Returns None: the forward input stays as it is.
            captured.setdefault(name, inputs[0][0].detach().cpu().numpy())
        return hook

    hooks = [
        module.register_forward_pre_hook(keep_input(name))
        for name, module in model.named_modules() if isinstance(
            module, (ChannelWindowAttention, FixedChannelWindowAttention))
    ]
    try:
        with torch.no_grad():
            model.extract_feat(preprocess(model, [dataset[0]]))
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def model_figures(args, cfg, figures):
    model = init_model(cfg, args.checkpoint, device=args.device)
    stats = collect_window_stats(model)
    if stats:
        figures['da_windows'] = lambda: plot_channel_windows(stats)
        figures['da_window_lengths'] = \
            lambda: plot_window_length_histograms(stats)
        rows = window_stats_table(stats)
        figures['da_window_stats'] = lambda: plot_table(
            WINDOW_TABLE_HEADER, rows, 'DA window statistics')
        if not args.no_feature_map and cfg.get('test_dataloader'):
            maps = da_feature_maps(model, cfg)
            for i, name in enumerate(stats):
                if name in maps:
                    figures[f'da_feature_map_{i}'] = (
                        lambda n=name: plot_window_feature_map(
                            maps[n], stats[n]['windows'], n))
    for i, (name, genotype) in enumerate(collect_genotypes(model).items()):
        figures[f'hoga_genotype_{i}'] = (
            lambda g=genotype, n=name: plot_genotype(g, f'HOGA ({n})'))
    arch = fbnet_arch_from_model(model)
    if arch is not None:
        figures['fbnetv2_channels'] = lambda: plot_fbnet_channels(arch)
    return stats


def file_figures(args, figures):
    for name in args.genotype:
        figures[f'hoga_genotype_{name}'] = (
            lambda n=name: plot_genotype(HOGA_GENOTYPES[n], f'HOGA: {n}'))
    for path in args.arch_json:
        with open(path) as f:
            arch = json.load(f)
        stem = osp.splitext(osp.basename(path))[0]
        if isinstance(arch, dict) and 'edges' in arch:
            genotype = Genotype.from_dict(arch)
            figures[f'hoga_genotype_{stem}'] = (
                lambda g=genotype, s=stem: plot_genotype(g, f'HOGA: {s}'))
        elif isinstance(arch, dict) and ({'stages', 'blocks'} & set(arch)):
            figures[f'fbnetv2_channels_{stem}'] = (
                lambda a=arch, s=stem: plot_fbnet_channels(
                    a, f'FBNetV2: {s}'))
        else:
            raise SystemExit(
                f'{path}: expected a HOGA genotype ({{num_groups, edges}}) '
                'or an FBNetV2 arch ({stages} or {blocks})')


def main():
    args = parse_args()
    if args.config is None and not (args.arch_json or args.genotype):
        raise SystemExit('give a CONFIG [CHECKPOINT], --arch-json or '
                         '--genotype')
    cfg = load_config(args.config, args.cfg_options) if args.config \
        else None
    writer = ImageWriter(args.out_dir, args.overwrite,
                         cfg.get('visualizer')
                         if cfg and not args.no_visualizer else None)
    figures = {}
    file_figures(args, figures)
    stats = model_figures(args, cfg, figures) if cfg else {}
    if not figures:
        raise SystemExit(
            'nothing to draw: the model has no DA (ChannelWindowAttention), '
            'HOGA or FBNetV2 supernet module; use --arch-json / --genotype')
    table = osp.join(args.out_dir, 'da_window_stats.md')
    writer.check_free(figures)
    if stats and osp.exists(table) and not args.overwrite:
        raise SystemExit(f'{table} exists; pass --overwrite')
    for name, make in figures.items():
        print(writer.write_figure(name, make()))
    if stats:
        with open(table, 'w') as f:
            f.write(format_markdown_table(WINDOW_TABLE_HEADER,
                                          window_stats_table(stats)))
        print(table)


if __name__ == '__main__':
    main()
