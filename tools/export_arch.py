"""Export the searched architecture of a checkpoint to JSON.

Example:
    python tools/export_arch.py \
        configs/search/da-fb-single_mobilenet-v2_search_market1501.py \
        work_dirs/da_search/epoch_300.pth --out work_dirs/da_search/arch.json

The JSON is what the retrain configs read (``SearchedBackbone`` with
``arch_file=...``); the search also writes it at its end
(``ExportArchitectureHook``).
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmattn.engine import load_checkpoint_safely
from mmattn.models.search import save_architecture
from mmattn.registry import MODELS, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(
        description='Export the searched architecture of a checkpoint')
    parser.add_argument('config', help='search config file path')
    parser.add_argument('checkpoint', help='checkpoint of the search')
    parser.add_argument(
        '--out', required=True, help='output .json file (not overwritten)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.model.head.num_classes=8')
    return parser.parse_args()


def main():
    args = parse_args()
    if not args.out.endswith('.json'):
        raise SystemExit(f'--out {args.out!r}: expected a .json file name')
    if osp.exists(args.out):
        raise SystemExit(f'--out: {args.out!r} exists; remove it or choose '
                         'another name')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmattn'))
    model_cfg = cfg.model
    # As the runner does: a top-level data_preprocessor is the model's.
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    checkpoint = load_checkpoint_safely(args.checkpoint, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    model.load_state_dict(state, strict=True)
    model.eval()
    arch = save_architecture(model, args.out)
    counts = {key: len(arch[key] or {}) for key in ('da', 'fbnetv2', 'dcs')}
    hoga = 'a HOGA genotype' if arch['hoga'] else 'no HOGA'
    print(f'wrote {args.out}: {counts["da"]} DA modules, '
          f'{counts["fbnetv2"]} FBNetV2 subnets, {hoga}, '
          f'{counts["dcs"]} DCS modules')


if __name__ == '__main__':
    main()
