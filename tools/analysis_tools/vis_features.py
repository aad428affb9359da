"""LDA then t-SNE of the test features of chosen identities, with the
Fisher score of the (standardised) LDA features (seed 001 appendix B);
optionally side by side for a second checkpoint.

Example:
    python tools/analysis_tools/vis_features.py \
        configs/reid/demo_dcs_mobilenetv2_synthetic.py \
        work_dirs/demo/epoch_55.pth --num-ids 10 --out-dir work_dirs/demo/vis
"""
import argparse
import json

import numpy as np
from matplotlib.figure import Figure
from mmengine.config import DictAction

from mmattn.apis import (build_dataset, extract_features, init_model,
                         load_config, reid_labels)
from mmattn.visualization import (ImageWriter, add_tool_arguments, lda_tsne,
                                  plot_projection)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser)
    parser.add_argument(
        '--num-ids',
        type=int,
        default=10,
        help='identities drawn at random (seeded) among '
        'those with at least --min-images images')
    parser.add_argument(
        '--ids', type=int, nargs='+', help='identities to show instead')
    parser.add_argument('--min-images', type=int, default=4)
    parser.add_argument(
        '--lda-dims', type=int, help='LDA dimensions (default: num ids - 1)')
    parser.add_argument(
        '--split', default='test', choices=['train', 'val', 'test'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--checkpoint2', help='second checkpoint (second '
        'panel)')
    parser.add_argument('--config2', help='config of --checkpoint2')
    parser.add_argument('--cfg-options2', nargs='+', action=DictAction)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--name', default='features_lda_tsne')
    return parser.parse_args()


def choose_identities(pids, args):
    values, counts = np.unique(pids, return_counts=True)
    if args.ids:
        missing = sorted(set(args.ids) - set(values.tolist()))
        if missing:
            raise SystemExit(f'--ids {missing} are not in the {args.split} '
                             'set')
        return sorted(args.ids)
    # Identity 0 (distractors) and -1 (junk) are not people.
    eligible = values[(counts >= args.min_images) & (values > 0)]
    if eligible.size < 2:
        raise SystemExit(f'fewer than two identities have {args.min_images}'
                         ' images; lower --min-images')
    rng = np.random.default_rng(args.seed)
    count = min(args.num_ids, eligible.size)
    return sorted(rng.choice(eligible, count, replace=False).tolist())


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name], [args.name])
    # Features of un-augmented images, whatever the split.
    dataset = build_dataset(
        cfg, args.split, pipeline=cfg.test_dataloader['dataset']['pipeline'])
    pids = reid_labels(dataset)['pids'].numpy()
    ids = choose_identities(pids, args)
    indices = np.flatnonzero(np.isin(pids, ids)).tolist()
    labels = pids[indices]
    runs = [(cfg, args.checkpoint, 'model 1')]
    if args.checkpoint2:
        # Without --config2 the second model shares the first config.
        cfg2 = load_config(args.config2, args.cfg_options2) \
            if args.config2 else load_config(cfg.copy(), args.cfg_options2)
        runs.append((cfg2, args.checkpoint2, 'model 2'))
    fig = Figure(figsize=(4 * len(runs), 4), dpi=80)
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    scores = {}
    for ax, (run_cfg, checkpoint, title) in zip(axes, runs):
        model = init_model(run_cfg, checkpoint, device=args.device)
        feats = extract_features(
            model, dataset, indices, batch_size=args.batch_size).numpy()
        projection = lda_tsne(
            feats, labels, n_components=args.lda_dims, seed=args.seed)
        plot_projection(projection, labels, title=title, ax=ax)
        scores[title] = dict(
            checkpoint=checkpoint,
            fisher_score=projection.fisher,
            lda_dims=int(projection.lda.shape[1]))
    print(writer.write_figure(args.name, fig))
    writer.write_json(
        args.name,
        dict(identities=ids, num_images=len(indices), models=scores),
        indent=2)
    print(json.dumps(scores))


if __name__ == '__main__':
    main()
