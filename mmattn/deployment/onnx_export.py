"""Export a model's test feature extractor to ONNX and check it.

The exported graph maps the *preprocessed* input batch (normalised RGB,
(B, 3, H, W), what the model's data preprocessor produces) to the test
feature: the L2-normalised embedding of a Re-ID model
(``forward(mode='tensor')``) or ``extract_feat(stage='pre_logits')`` of an
image classifier. The batch axis is dynamic.
"""
import copy
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from mmattn.apis import feature_function
from mmattn.models.attentions import ChannelWindowAttention, HOGAttention
from mmattn.models.backbones import FBNetV2Supernet
from mmattn.models.injection import INJECTED_FLAG, ModuleWithAttention


class FeatureExtractor(nn.Module):
    """The test-feature function of a model as a plain module.

    Args:
        model (nn.Module): A Re-ID model or an image classifier.

    Shapes:
        inputs: (B, 3, H, W) -> features (B, D).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self._feature = feature_function(model)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self._feature(inputs)


def _fixed_hoga(module: HOGAttention) -> HOGAttention:
    """The fixed HOGA of the argmax genotype, carrying the search module's
    weights (the chosen primitive of every edge, and the fusion)."""
    genotype = module.derive_genotype()
    fixed = HOGAttention(
        module.in_channels,
        num_groups=module.num_groups,
        genotype=genotype,
        fusion='none')
    for e, op in enumerate(genotype.ops):
        fixed.edge_ops[e] = copy.deepcopy(
            module.edge_ops[e].ops[module.primitives.index(op)])
    # The fusion keeps its exact modules (SE or identity, any reduction).
    for name in ('group_sum_attention', 'fuse', 'out_attention'):
        setattr(fixed, name, copy.deepcopy(getattr(module, name)))
    return fixed.train(module.training)


def _set_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition('.')
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def _stage_attentions(name: str, supernet: FBNetV2Supernet) -> dict:
    """Stage name -> the attentions injected after it (innermost first),
    checked to fit the derived subnet's width of that stage unchanged."""
    found = {}
    for index, stage_name in enumerate(supernet.stage_names):
        stage, chain = getattr(supernet, stage_name), []
        while isinstance(stage, ModuleWithAttention):
            chain.insert(0, stage.attention)
            stage = stage.wrapped
        width = supernet.stage_blocks(index)[-1].chosen()[0]
        widest = supernet.stage_blocks(index)[-1].out_channels
        if chain and width != widest:
            raise ValueError(
                f'derive: the attention after {name}.{stage_name} was '
                f'searched on the supernet\'s widest output ({widest} '
                f'channels); the derived subnet has {width} channels there, '
                'so the module cannot be carried over unchanged. Retrain '
                'the derived architecture (tools/export_arch.py, then the '
                '*_retrain config) and export that checkpoint, or export '
                'without --derive')
        found[stage_name] = chain
    handled = {id(a) for chain in found.values() for a in chain}
    inside = [
        path for path, module in supernet.named_modules() if
        module.__dict__.get(INJECTED_FLAG, False) and id(module) not in handled
    ]
    if inside:
        raise ValueError(
            f'derive: {name} has attention injected inside its blocks '
            f'({inside}); FBNetV2Supernet.derive_subnet() carries only '
            'attentions injected after whole stages')
    return found


def _derived_subnet(name: str, supernet: FBNetV2Supernet) -> nn.Module:
    """The plain :class:`FBNetV2Subnet` of the argmax choices with the
    supernet's weights, and the attentions injected after its stages
    wrapped around the subnet's stages again."""
    attentions = _stage_attentions(name, supernet)
    subnet = supernet.derive_subnet()
    for stage_name, chain in attentions.items():
        stage = getattr(subnet, stage_name)
        for attention in chain:
            stage = ModuleWithAttention(stage, attention)
        setattr(subnet, stage_name, stage)
    return subnet.train(supernet.training)


def derive_inference_model(model: nn.Module) -> Dict[str, str]:
    """Replace searched modules by their derived fixed forms, in place.

    - DA (:class:`ChannelWindowAttention` and subclasses): the pruned
      :class:`FixedChannelWindowAttention` of the rounded, merged windows
      (:meth:`~ChannelWindowAttention.fix_windows`).
    - HOGA in search form: the fixed :class:`HOGAttention` of the argmax
      genotype with the chosen primitives' weights.
    - :class:`FBNetV2Supernet`: the plain :class:`FBNetV2Subnet` of the
      argmax choices (:meth:`~FBNetV2Supernet.derive_subnet`, the first
      channels of every weight), which computes what the supernet computes
      in eval mode at the subnet's widths. Attentions injected after a
      stage are carried over when the stage keeps its widest width; one
      after a narrowed stage saw the supernet's zero-padded widest output,
      so no subnet computes the same function: that raises a ValueError
      (retrain the derived architecture and export the retrained model).

    Returns:
        dict: module path -> what it was replaced by.

    Raises:
        ValueError: An FBNetV2 supernet whose injected attentions cannot be
            carried over unchanged (see above).
    """
    replaced = {}
    targets = []
    for name, module in model.named_modules():
        if isinstance(module, ChannelWindowAttention):
            targets.append((name, module, module.fix_windows()))
        elif isinstance(module, HOGAttention) and module.search:
            targets.append((name, module, _fixed_hoga(module)))
    for name, old, new in targets:
        if old.__dict__.get(INJECTED_FLAG, False):
            # Still an injected attention (remove_attention, the checks
            # of the supernet derivation below).
            object.__setattr__(new, INJECTED_FLAG, True)
        _set_module(model, name, new)
        replaced[name] = type(new).__name__
    # After the attentions: the subnet carries their derived forms.
    supernets = [(name, module) for name, module in model.named_modules()
                 if isinstance(module, FBNetV2Supernet)]
    subnets = [(name, _derived_subnet(name, module))
               for name, module in supernets]
    for name, new in subnets:
        _set_module(model, name, new)
        replaced[name] = type(new).__name__
    return replaced


def export_onnx(model: nn.Module,
                path: str,
                input_shape: Sequence[int],
                opset_version: int = 17) -> None:
    """Export the test feature extractor of ``model`` to ``path``.

    Args:
        model (nn.Module): In eval mode.
        path (str): Output ``.onnx`` file.
        input_shape (Sequence[int]): (B, 3, H, W) of the example input; B is
            exported as the dynamic axis ``batch``.
        opset_version (int): ONNX opset. Defaults to 17.
    """
    if len(input_shape) != 4:
        raise ValueError('input_shape must be (B, C, H, W), got '
                         f'{tuple(input_shape)}')
    extractor = FeatureExtractor(model).eval()
    example = torch.randn(*input_shape)
    # The TorchScript-based exporter: it needs no onnxscript and handles
    # the data-dependent window indexing of DA as constants of the
    # trained model.
    torch.onnx.export(
        extractor, (example, ),
        path,
        dynamo=False,
        opset_version=opset_version,
        input_names=['inputs'],
        output_names=['features'],
        dynamic_axes=dict(inputs={0: 'batch'}, features={0: 'batch'}))


def onnx_features(path: str, inputs: np.ndarray) -> np.ndarray:
    """Run the exported model with onnxruntime (CPU)."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    return session.run(['features'],
                       {'inputs': np.ascontiguousarray(inputs, np.float32)})[0]


@torch.no_grad()
def verify_onnx(path: str,
                model: nn.Module,
                inputs: Optional[torch.Tensor] = None,
                input_shape: Sequence[int] = (2, 3, 128, 64),
                seed: int = 0) -> float:
    """Max absolute difference between onnxruntime and PyTorch features.

    Args:
        path (str): The exported file.
        model (nn.Module): The exported model (eval mode).
        inputs (Tensor, optional): Inputs; random normal of ``input_shape``
            (seeded) by default.
    """
    if inputs is None:
        generator = torch.Generator().manual_seed(seed)
        inputs = torch.randn(*input_shape, generator=generator)
    expected = FeatureExtractor(model).eval()(inputs).numpy()
    got = onnx_features(path, inputs.numpy())
    if got.shape != expected.shape:
        raise ValueError(f'ONNX output shape {got.shape} differs from '
                         f'PyTorch {expected.shape}')
    return float(np.abs(got - expected).max())
