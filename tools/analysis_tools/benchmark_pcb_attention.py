"""Inference memory and speed of PCB, PCB + SA and PCB + CSA with
G = 1..8 groups in one run (seed 002 table 6).

Builds the three Re-ID configs from scratch (their ImageNet URL is never
fetched: the ResNet's ``init_cfg=None``), CSA once per ``--groups``
value, and measures each in eval mode on random 384 x 128 batches with
:func:`mmattn.analysis.inference_cost.inference_cost`: memory (MB/image) is
the peak a forward allocates beyond the weights and the input, divided by
the batch (CUDA: ``max_memory_allocated``; CPU: the PyTorch profiler's
allocation events, i.e. tensor memory of the CPU allocator, not the RSS),
and images/s the throughput of the timed forwards. The JSON adds each
model's weights (parameters and buffers, MB), which the memory leaves out.
Prints the table as the paper does, with the ratios (%) to plain PCB, and
writes it as JSON (``--out``) and Markdown beside it.

Examples::

    python tools/analysis_tools/benchmark_pcb_attention.py --device cuda \\
        --out work_dirs/pcb_attention_cost.json
    python tools/analysis_tools/benchmark_pcb_attention.py --tiny \\
        --out /tmp/pcb_cost.json      # smoke size: 96x32, batch 2
"""
import argparse
import json
import os.path as osp
import sys

import torch

from mmattn.analysis.inference_cost import (add_ratios, inference_cost,
                                            model_forward)
from mmattn.apis import init_model, load_config

CONFIGS = dict(
    PCB='configs/reid/pcb_resnet50_market1501.py',
    SA='configs/reid/sa-pcb_resnet50_market1501.py',
    CSA='configs/reid/csa-pcb_resnet50_market1501.py')
#: Seed 002 table 6: (model, group, MB/image, FPS).
PAPER = [('PCB', None, 125.64, 380.24), ('PCB + SA', 1, 304.33, 224.30),
         ('PCB + CSA', 1, 139.60, 360.90), ('PCB + CSA', 2, 142.27, 350.36),
         ('PCB + CSA', 4, 149.02, 335.66), ('PCB + CSA', 8, 158.02, 314.80)]
HEADER = ('Models', 'Group Num', 'Memory (MB/image)', 'FPS', 'Memory (%)',
          'FPS (%)', 'paper MB/image', 'paper FPS')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--groups', nargs='+', type=int, default=[1, 2, 4, 8])
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='default 32 (2 with --tiny)')
    parser.add_argument(
        '--input-size',
        nargs=2,
        type=int,
        default=None,
        metavar=('H', 'W'),
        help='default 384 128 (96 32 '
        'with --tiny)')
    parser.add_argument('--warmup', type=int, default=None)
    parser.add_argument('--iters', type=int, default=None)
    parser.add_argument(
        '--tiny',
        action='store_true',
        help='smoke size: 96x32, batch 2, 1 warm-up, 1 iter')
    parser.add_argument(
        '--out', help='JSON file (Markdown beside it); '
        'must not exist')
    args = parser.parse_args(argv)
    tiny = args.tiny
    defaults = dict(
        batch_size=2 if tiny else 32,
        input_size=[96, 32] if tiny else [384, 128],
        warmup=1 if tiny else 3,
        iters=1 if tiny else 20)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    bad = [g for g in args.groups if g < 1 or 256 % g]
    if bad:
        parser.error(f'--groups must divide 256 (layer1 channels), got {bad}')
    if args.out and osp.exists(args.out):
        parser.error(f'--out {args.out} exists; choose another file')
    return args


def build(name, groups, input_size, device):
    cfg = load_config(CONFIGS[name])
    # The plain PCB's backbone is the ResNet itself; the others wrap it.
    inner = cfg.model.backbone.get('backbone', cfg.model.backbone)
    inner.init_cfg = None
    if 'dummy_input_shape' in cfg.model.backbone:
        cfg.model.backbone.dummy_input_shape = (1, 3, *input_size)
    if name == 'CSA':
        for spec in cfg.model.backbone.attentions:
            spec.cfg.groups = groups
    return init_model(cfg, device=device)


def plan(groups):
    return [('PCB', None), ('SA', 1)] + [('CSA', g) for g in groups]


def format_table(rows):
    lines = ['| ' + ' | '.join(HEADER) + ' |', '|' + '---|' * len(HEADER)]
    paper = {(m, g): (mem, fps) for m, g, mem, fps in PAPER}
    for row in rows:
        ref = paper.get((row['model'], row['groups']), ('-', '-'))
        lines.append('| ' + ' | '.join([
            row['model'], '-' if row['groups'] is None else str(row['groups']),
            f'{row["memory_mb"]:.2f}', f'{row["images_per_s"]:.2f}',
            f'{row["memory_ratio"]:.0f}', f'{row["speed_ratio"]:.0f}',
            str(ref[0]),
            str(ref[1])
        ]) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    rows = []
    for name, groups in plan(args.groups):
        model = build(name, groups, args.input_size, device)
        cost = inference_cost(
            model_forward(model), (3, *args.input_size), args.batch_size,
            device, args.warmup, args.iters)
        weights_mb = sum(
            t.numel() * t.element_size()
            for t in (*model.parameters(), *model.buffers())) / 2**20
        rows.append(
            dict(
                model='PCB' if name == 'PCB' else f'PCB + {name}',
                groups=groups,
                config=CONFIGS[name],
                weights_mb=weights_mb,
                **cost))
        del model
        if device.type == 'cuda':
            torch.cuda.empty_cache()
        print(
            f'{rows[-1]["model"]} G={groups}: '
            f'{cost["memory_mb"]:.2f} MB/image, '
            f'{cost["images_per_s"]:.2f} images/s',
            file=sys.stderr)
    add_ratios(rows)
    table = format_table(rows)
    device_name = torch.cuda.get_device_name(device) \
        if device.type == 'cuda' else 'cpu'
    print(f'Seed 002 table 6 on {device_name}, batch {args.batch_size}, '
          f'{args.input_size[0]}x{args.input_size[1]}, memory: '
          f'{rows[0]["memory_source"]}')
    print(table)
    result = dict(
        device=device_name,
        batch_size=args.batch_size,
        input_size=args.input_size,
        warmup=args.warmup,
        iters=args.iters,
        rows=rows,
        header=list(HEADER))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
        with open(osp.splitext(args.out)[0] + '.md', 'w') as f:
            f.write(table + '\n')
    return result


if __name__ == '__main__':
    main()
