"""Export the feature extractor of a trained model to ONNX.

The graph maps the preprocessed batch (normalised RGB, (B, 3, H, W), B
dynamic) to the test feature: the L2-normalised embedding of a Re-ID model
or ``extract_feat(stage='pre_logits')`` of an image classifier. The data
preprocessor (mean / std, BGR -> RGB) is not part of the graph.

Searched models: ``--derive`` first replaces DA modules by their pruned
fixed-window form, search-form HOGA modules by their argmax genotype and an
FBNetV2 supernet by its plain argmax subnet (``derive_subnet()``; attentions
injected after stages that keep their widest width are carried over, one
after a narrowed stage is an error: retrain the derived architecture and
export the retrained checkpoint).

Example:
    python tools/deployment/export_onnx.py \
        configs/reid/demo_dcs_mobilenetv2_synthetic.py \
        work_dirs/demo/epoch_55.pth --out-dir work_dirs/demo/onnx --verify
"""
import argparse
import os
import os.path as osp

from mmattn.apis import init_model, load_config
from mmattn.deployment import derive_inference_model, export_onnx, verify_onnx
from mmattn.visualization import add_tool_arguments


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser)
    parser.add_argument(
        '--name', help='file name without .onnx (default: '
        'the config name)')
    parser.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help="input size (default: the "
        "config's input_size, else 224 224)")
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--derive',
        action='store_true',
        help='derive the searched modules first (DA windows, '
        'HOGA genotype, FBNetV2 subnet)')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime and PyTorch features')
    parser.add_argument('--atol', type=float, default=1e-4)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    path = osp.join(args.out_dir, name + '.onnx')
    if osp.exists(path) and not args.overwrite:
        raise SystemExit(f'{path} exists; pass --overwrite or choose '
                         'another --out-dir / --name')
    size = args.input_size or cfg.get('input_size') or (224, 224)
    model = init_model(cfg, args.checkpoint, device='cpu')
    if args.derive:
        for module, new in derive_inference_model(model).items():
            print(f'derived {module} -> {new}')
    os.makedirs(args.out_dir, exist_ok=True)
    export_onnx(model, path, (1, 3, *size), opset_version=args.opset)
    print(path)
    if args.verify:
        diff = verify_onnx(path, model, input_shape=(3, 3, *size))
        print(f'max |onnxruntime - pytorch| = {diff:.3g} (batch 3)')
        if not diff <= args.atol:
            raise SystemExit(f'verification failed: {diff:.3g} > --atol '
                             f'{args.atol}')


if __name__ == '__main__':
    main()
