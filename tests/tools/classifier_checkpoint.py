"""Shared check of the detection and pose configs: their backbone loads an
mmattn ImageNet classifier checkpoint through ``init_cfg``."""
import os.path as osp

import torch
from conftest import REPO_ROOT
from mmengine.config import Config

from mmattn.registry import MODELS


def check_backbone_loads_classifier(cfg: Config, build, kind: str, tmp_path):
    """Save a perturbed ``<kind>_resnet50_8xb32_in1k`` classifier, point
    ``cfg.model.backbone.init_cfg`` at it, and check that ``init_weights``
    puts exactly its values into every backbone tensor.

    Args:
        cfg (Config): A detection / pose config.
        build (callable): Builds the model from ``cfg`` in its own scope.
        kind (str): ``''``, ``'se'``, ``'cbam'`` or ``'hoga'``.
        tmp_path: Where the checkpoint goes.

    Returns:
        tuple[dict, dict]: The classifier's state dict and the loaded
        backbone's state dict.
    """
    name = f'{kind}_resnet50_8xb32_in1k' if kind else 'resnet50_8xb32_in1k'
    cls_cfg = Config.fromfile(
        osp.join(REPO_ROOT, f'configs/classification/{name}.py'))
    state = MODELS.build(cls_cfg.model).state_dict()
    generator = torch.Generator().manual_seed(0)
    for value in state.values():
        if value.is_floating_point():  # distinct from any initialisation
            value.add_(torch.rand(value.shape, generator=generator))
    checkpoint = str(tmp_path / 'classifier.pth')
    torch.save(dict(state_dict=state, meta=dict()), checkpoint)

    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    model = build(cfg)
    loaded = model.backbone.state_dict()
    # Every backbone tensor has its counterpart in the classifier.
    sources = {key: state['backbone.' + key] for key in loaded}
    assert not any(
        torch.equal(loaded[k], sources[k])
        for k in loaded if loaded[k].is_floating_point())
    model.init_weights()
    loaded = model.backbone.state_dict()
    for key, value in loaded.items():
        assert torch.equal(value, sources[key]), key
    # The attention weights are among them (none in the plain ResNet-50).
    assert any('.attention.' in key for key in loaded) == bool(kind)
    return state, loaded
