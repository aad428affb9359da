"""Runner-free model and data access for the analysis and export tools.

The tools work on any mmattn config: a :class:`~mmattn.models.ReID` model
or an mmpretrain ``ImageClassifier`` (with or without injected attention).
"""
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import load_checkpoint

from mmattn.registry import DATASETS, MODELS, register_all_modules


def load_config(config, cfg_options: Optional[dict] = None) -> Config:
    """A :class:`Config` from a file (or a Config), with ``--cfg-options``
    merged in."""
    if isinstance(config, str):
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError('config must be a file path or an mmengine Config, '
                        f'got {type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return config


def init_model(config,
               checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               device: str = 'cpu') -> nn.Module:
    """Build ``config.model``, load ``checkpoint`` and switch to eval mode.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint path (loaded with mmattn's
            weights-only loader). None keeps the initial weights.
        cfg_options (dict, optional): Overrides merged into the config.
        device (str): Device of the model. Defaults to ``'cpu'``.

    Returns:
        nn.Module: The model in eval mode, with its config as ``model.cfg``.
    """
    cfg = load_config(config, cfg_options)
    register_all_modules(init_default_scope=True)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='silent')
    model.cfg = cfg
    return model.to(device).eval()


def is_reid_model(model: nn.Module) -> bool:
    """Whether ``model`` is a Re-ID model (has the ``embed`` test path)."""
    return callable(getattr(model, 'embed', None))


def _check_supported(model: nn.Module) -> None:
    if not is_reid_model(model) and not callable(
            getattr(model, 'extract_feat', None)):
        raise TypeError(
            f'{type(model).__name__} is neither a Re-ID model (ReID.embed) '
            'nor a classifier with extract_feat; the tools support those two')


def feature_function(model: nn.Module) -> Callable:
    """The test feature of a model: Re-ID ``forward(mode='tensor')``
    (L2-normalised) or a classifier's ``extract_feat(stage='pre_logits')``.

    Returns:
        Callable: ``inputs (B, 3, H, W) -> features (B, D)``.
    """
    _check_supported(model)
    if is_reid_model(model):
        return lambda inputs: model(inputs, mode='tensor')

    def classifier_feature(inputs):
        feats = model.extract_feat(inputs, stage='pre_logits')
        return feats[-1] if isinstance(feats, (tuple, list)) else feats

    return classifier_feature


def raw_feature(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The test feature before L2 normalisation (B, D)."""
    _check_supported(model)
    if is_reid_model(model):
        index = 1 if getattr(model, 'test_feature', 'post_bn') == 'post_bn' \
            else 0
        return model.extract_feat(inputs)[index]
    return feature_function(model)(inputs).flatten(1)


def class_logits(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Identity (Re-ID) or class logits (B, num_classes) from the head."""
    _check_supported(model)
    head = getattr(model, 'head', None)
    if head is None:
        raise TypeError(f'{type(model).__name__} has no head to give logits')
    return head(model.extract_feat(inputs))


def build_dataset(cfg: Config, split: str = 'test', pipeline=None):
    """The dataset of ``<split>_dataloader`` (``'train'``, ``'val'`` or
    ``'test'``), optionally with another pipeline."""
    key = f'{split}_dataloader'
    if split not in ('train', 'val', 'test') or cfg.get(key) is None:
        raise ValueError(f'split must name a dataloader of the config '
                         f"('train', 'val' or 'test'); {key!r} is missing")
    register_all_modules(init_default_scope=True)
    dataset_cfg = cfg[key]['dataset'].copy()
    if pipeline is not None:
        dataset_cfg['pipeline'] = pipeline
    return DATASETS.build(dataset_cfg)


def _batches(indices: Sequence[int], batch_size: int):
    for start in range(0, len(indices), batch_size):
        yield indices[start:start + batch_size]


def preprocess(model: nn.Module, samples: List[dict]) -> torch.Tensor:
    """Packed pipeline outputs -> the model's normalised input batch."""
    data = model.data_preprocessor(pseudo_collate(samples), False)
    return data['inputs']


def display_image(sample: dict) -> np.ndarray:
    """The (H, W, 3) uint8 RGB image of a packed sample (pipeline output).

    ``LoadImageFromFile`` reads BGR; ``PackInputs`` keeps that order.
    """
    image = sample['inputs']
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError('expected a packed (3, H, W) image, got shape '
                         f'{tuple(image.shape)}')
    return np.ascontiguousarray(image.permute(
        1, 2, 0).numpy()[..., ::-1]).astype(np.uint8)


@torch.no_grad()
def extract_features(model: nn.Module,
                     dataset,
                     indices: Optional[Sequence[int]] = None,
                     batch_size: int = 32) -> torch.Tensor:
    """Test features (N, D) of ``dataset[indices]`` (all by default)."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    func = feature_function(model)
    feats = []
    for batch in _batches(indices, batch_size):
        feats.append(func(preprocess(model, [dataset[i] for i in batch])))
    return torch.cat(feats).float().cpu()


def reid_labels(
        dataset,
        indices: Optional[Sequence[int]] = None) -> Dict[str, torch.Tensor]:
    """``pids``, ``camids`` and ``is_query`` (long / bool tensors) of the
    data infos of a Re-ID dataset."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    infos = [dataset.get_data_info(i) for i in indices]
    missing = [
        k for k in ('gt_label', 'camera_id', 'is_query')
        if infos and k not in infos[0]
    ]
    if missing:
        raise ValueError(f'the dataset\'s data infos lack {missing}; a Re-ID '
                         'dataset (e.g. Market1501) is needed')
    return dict(
        pids=torch.tensor([int(i['gt_label']) for i in infos]),
        camids=torch.tensor([int(i['camera_id']) for i in infos]),
        is_query=torch.tensor([bool(i['is_query']) for i in infos]))
