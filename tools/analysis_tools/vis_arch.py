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

From files, without a model: ``--arch-json`` and ``--genotype NAME`` (a
named genotype, e.g. ``autola``). An ``--arch-json`` file is either

- an exported architecture (``architecture.json`` of
  ``ExportArchitectureHook`` / ``tools/export_arch.py``, ``format:
  'mmattn-architecture'``): its ``da`` section gives ``da_windows.png``,
  ``da_window_lengths.png``, ``da_window_stats.png`` and ``.md``, its
  ``hoga.genotype`` ``hoga_genotype.png`` and each ``fbnetv2.<path>.arch``
  ``fbnetv2_channels.png`` (``_<i>`` per supernet when there are several);
  the names get ``_<file stem>`` when several files or a config are given;
- a bare genotype ``{num_groups, edges}`` -> ``hoga_genotype_<stem>.png``;
- an FBNetV2 arch ``{stages | blocks}`` -> ``fbnetv2_channels_<stem>.png``.

Examples:
    python tools/analysis_tools/vis_arch.py \
        configs/attentions/hoga_resnet50.py --genotype autola \
        --out-dir work_dirs/arch
    python tools/analysis_tools/vis_arch.py \
        --arch-json work_dirs/da_search/architecture.json \
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
from mmattn.models.search import ARCH_FORMAT, check_architecture
# yapf: disable
from mmattn.visualization import (WINDOW_TABLE_HEADER, ImageWriter,
                                  collect_genotypes, collect_window_stats,
                                  fbnet_arch_from_model, fbnet_blocks,
                                  format_markdown_table, plot_channel_windows,
                                  plot_fbnet_channels, plot_genotype,
                                  plot_table, plot_window_feature_map,
                                  plot_window_length_histograms,
                                  window_stats_from_architecture,
                                  window_stats_table)

# yapf: enable


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config',
        nargs='?',
        help='config file (optional '
        'with --arch-json / --genotype)')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint (default: the initial weights)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--overwrite', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--no-visualizer',
        action='store_true',
        help="PNG files only, not the config's visualiser")
    parser.add_argument(
        '--arch-json',
        nargs='+',
        default=[],
        help='architecture.json files (tools/export_arch.py)'
        ', bare HOGA genotypes or FBNetV2 archs')
    parser.add_argument(
        '--genotype',
        nargs='+',
        default=[],
        choices=sorted(HOGA_GENOTYPES),
        help='named HOGA genotypes to draw')
    parser.add_argument(
        '--no-feature-map',
        action='store_true',
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
        for name, module in model.named_modules()
        if isinstance(module, (ChannelWindowAttention,
                               FixedChannelWindowAttention))
    ]
    try:
        with torch.no_grad():
            model.extract_feat(preprocess(model, [dataset[0]]))
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def model_figures(args, cfg, figures, tables):
    model = init_model(cfg, args.checkpoint, device=args.device)
    stats = collect_window_stats(model)
    if stats:
        da_figures(stats, figures, tables)
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


def da_figures(stats, figures, tables, suffix='', source=''):
    """The DA window, histogram and statistics figures (and the markdown
    table) of ``stats`` (:func:`collect_window_stats` dicts)."""
    figures[f'da_windows{suffix}'] = lambda: plot_channel_windows(stats)
    figures[f'da_window_lengths{suffix}'] = \
        lambda: plot_window_length_histograms(stats)
    rows = window_stats_table(stats)
    title = f'DA window statistics{source}'
    figures[f'da_window_stats{suffix}'] = lambda: plot_table(
        WINDOW_TABLE_HEADER, rows, title)
    tables[f'da_window_stats{suffix}.md'] = rows


def exported_figures(path, arch, figures, tables, suffix):
    """Figures of an ``architecture.json`` (``ExportArchitectureHook`` /
    ``tools/export_arch.py``): ``da`` -> the DA window figures and table,
    ``hoga.genotype`` -> the genotype's DAG, ``fbnetv2.<path>.arch`` -> the
    chosen channels per block."""
    try:
        check_architecture(arch, source=path)
        stats = window_stats_from_architecture(arch)
        genotype = Genotype.from_dict(arch['hoga']['genotype']) \
            if arch['hoga'] else None
        supernets = arch['fbnetv2'] or {}
        for name, entry in supernets.items():
            fbnet_blocks(
                entry.get('arch') if isinstance(entry, dict) else None)
    except (ValueError, KeyError, TypeError) as error:
        raise SystemExit(f'{path}: {error}')
    drawn, source = 0, osp.basename(path)
    if stats:
        da_figures(stats, figures, tables, suffix, f' ({source})')
        drawn += 1
    if genotype is not None:
        figures[f'hoga_genotype{suffix}'] = (
            lambda g=genotype: plot_genotype(g, f'HOGA: {source}'))
        drawn += 1
    for i, (name, entry) in enumerate(supernets.items()):
        index = f'_{i}' if len(supernets) > 1 else ''
        figures[f'fbnetv2_channels{index}{suffix}'] = (lambda a=entry[
            'arch'], n=name: plot_fbnet_channels(a, f'FBNetV2 {n} ({source})'))
        drawn += 1
    if not drawn:
        raise SystemExit(f'{path}: the architecture has no DA windows, HOGA '
                         'genotype or FBNetV2 arch to draw (only '
                         f'{sorted(arch["dcs"]) or "empty sections"})')


def file_figures(args, figures, tables):
    for name in args.genotype:
        figures[f'hoga_genotype_{name}'] = (
            lambda n=name: plot_genotype(HOGA_GENOTYPES[n], f'HOGA: {n}'))
    # An exported architecture gives the model's figure names; a suffix
    # tells them apart only when several sources write into --out-dir.
    several = len(args.arch_json) > 1 or args.config is not None
    stems = [osp.splitext(osp.basename(p))[0] for p in args.arch_json]
    if len(set(stems)) < len(stems):
        raise SystemExit(f'--arch-json: the file names {stems} repeat; the '
                         'figures are named after them, rename the copies')
    for path in args.arch_json:
        if not osp.isfile(path):
            raise SystemExit(f'--arch-json: {path!r} does not exist')
        with open(path) as f:
            try:
                arch = json.load(f)
            except json.JSONDecodeError as error:
                raise SystemExit(f'{path}: not a JSON file ({error})')
        stem = osp.splitext(osp.basename(path))[0]
        if isinstance(arch, dict) and 'format' in arch:
            exported_figures(path, arch, figures, tables,
                             f'_{stem}' if several else '')
        elif isinstance(arch, dict) and 'edges' in arch:
            genotype = Genotype.from_dict(arch)
            figures[f'hoga_genotype_{stem}'] = (
                lambda g=genotype, s=stem: plot_genotype(g, f'HOGA: {s}'))
        elif isinstance(arch, dict) and ({'stages', 'blocks'} & set(arch)):
            figures[f'fbnetv2_channels_{stem}'] = (
                lambda a=arch, s=stem: plot_fbnet_channels(a, f'FBNetV2: {s}'))
        else:
            raise SystemExit(
                f'{path}: expected an exported architecture '
                f"({{format: '{ARCH_FORMAT}', da, hoga, fbnetv2, ...}}, "
                'from ExportArchitectureHook or tools/export_arch.py), a '
                'HOGA genotype ({num_groups, edges}) or an FBNetV2 arch '
                '({stages} or {blocks})')


def main():
    args = parse_args()
    if args.config is None and not (args.arch_json or args.genotype):
        raise SystemExit('give a CONFIG [CHECKPOINT], --arch-json or '
                         '--genotype')
    cfg = load_config(args.config, args.cfg_options) if args.config \
        else None
    writer = ImageWriter(
        args.out_dir, args.overwrite,
        cfg.get('visualizer') if cfg and not args.no_visualizer else None)
    figures, tables = {}, {}
    file_figures(args, figures, tables)
    if cfg:
        model_figures(args, cfg, figures, tables)
    if not figures:
        raise SystemExit(
            'nothing to draw: the model has no DA (ChannelWindowAttention), '
            'HOGA or FBNetV2 supernet module; use --arch-json / --genotype')
    writer.check_free(figures)
    taken = [
        osp.join(args.out_dir, name) for name in tables
        if osp.exists(osp.join(args.out_dir, name))
    ]
    if taken and not args.overwrite:
        raise SystemExit(f'{", ".join(taken)} exist(s); pass --overwrite')
    for name, make in figures.items():
        print(writer.write_figure(name, make()))
    for name, rows in tables.items():
        table = osp.join(args.out_dir, name)
        with open(table, 'w') as f:
            f.write(format_markdown_table(WINDOW_TABLE_HEADER, rows))
        print(table)


if __name__ == '__main__':
    main()
