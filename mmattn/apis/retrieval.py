"""Features and retrieval for image files: a folder, one image or a list of
files, with no dataset, annotation or config change needed.

Images go through the config's test pipeline (``test_dataloader.dataset.
pipeline``: load, resize, pack), the model's data preprocessor and its test
feature (:func:`~mmattn.apis.feature_function`: L2-normalised Re-ID
embedding or a classifier's pre-logits). Retrieval ranks a gallery for each
query by distance (optionally k-reciprocal re-ranked with
:func:`~mmattn.evaluation.functional.k_reciprocal_rerank`, the code
``ReIDMetric(rerank=True)`` uses).
"""
import os
import os.path as osp
import re
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.transforms import Compose
from torch import Tensor

from mmattn.evaluation.functional import (DISTANCE_METRICS,
                                          k_reciprocal_rerank,
                                          pairwise_distance)
from mmattn.registry import TRANSFORMS, register_all_modules
from .inference import feature_function, preprocess

#: File extensions :func:`list_images` collects (lower case).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif',
                    '.tiff', '.webp')

# Market-1501 / DukeMTMC-reID / CUHK03-NP file names: identity, camera.
_REID_NAME = re.compile(r'^(-?\d+)_c(\d+)')

ImageSource = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


def list_images(source: ImageSource) -> List[str]:
    """The image files of ``source``, in a fixed order.

    Args:
        source (str | Sequence[str]): A folder (its images, searched
            recursively, sorted by path), one image file, or a list of
            files and folders (kept in the given order, folders expanded).

    Returns:
        list[str]: Image paths.

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a file is not an image (by extension) or nothing is
            found.
    """
    entries = [source] if isinstance(source,
                                     (str, os.PathLike)) else list(source)
    paths = []
    for entry in entries:
        entry = os.fspath(entry)
        if osp.isdir(entry):
            found = sorted(
                osp.join(root, name) for root, _, names in os.walk(entry)
                for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
            if not found:
                raise ValueError(f'folder {entry!r} holds no images '
                                 f'({", ".join(IMAGE_EXTENSIONS)})')
            paths += found
        elif osp.isfile(entry):
            if not entry.lower().endswith(IMAGE_EXTENSIONS):
                raise ValueError(f'{entry!r} is not an image file (expected '
                                 f'one of {", ".join(IMAGE_EXTENSIONS)})')
            paths.append(entry)
        else:
            raise FileNotFoundError(f'image or folder {entry!r} does not '
                                    'exist')
    if not paths:
        raise ValueError('no images given')
    return paths


def image_pipeline(model: nn.Module) -> Compose:
    """The test pipeline of ``model.cfg`` (set by
    :func:`~mmattn.apis.init_model`) for ``dict(img_path=...)`` inputs.

    Keys the packing step would take from dataset annotations
    (``camera_id``, ``is_query``) are simply absent for plain images.
    """
    cfg = getattr(model, 'cfg', None)
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        raise ValueError(
            'the model has no config with test_dataloader.dataset.pipeline '
            '(build it with mmattn.apis.init_model, or pass pipeline=)'
        ) from None
    register_all_modules(init_default_scope=True)
    return Compose([TRANSFORMS.build(t) for t in pipeline])


@torch.no_grad()
def extract_image_features(
        model: nn.Module,
        source: ImageSource,
        batch_size: int = 32,
        pipeline: Optional[Sequence[dict]] = None) -> Tuple[Tensor, List[str]]:
    """Test features of image files.

    Args:
        model (nn.Module): A model from :func:`~mmattn.apis.init_model`.
        source (str | Sequence[str]): See :func:`list_images`.
        batch_size (int): Images per forward pass. Defaults to 32.
        pipeline (Sequence[dict], optional): Transforms from
            ``dict(img_path=path)`` to a packed sample; defaults to the
            config's test pipeline.

    Returns:
        tuple: Features (N, D) float32 on the CPU, and the N image paths.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'batch_size must be a positive int, got '
                         f'{batch_size!r}')
    paths = list_images(source)
    if pipeline is None:
        transform = image_pipeline(model)
    else:
        register_all_modules(init_default_scope=True)
        transform = Compose([TRANSFORMS.build(t) for t in pipeline])
    func = feature_function(model)
    feats = []
    for start in range(0, len(paths), batch_size):
        samples = []
        for path in paths[start:start + batch_size]:
            sample = transform(dict(img_path=path))
            if sample is None:
                raise ValueError(f'the pipeline dropped {path!r}')
            samples.append(sample)
        feats.append(func(preprocess(model, samples)).flatten(1))
    return torch.cat(feats).float().cpu(), paths


def reid_name_labels(path: str) -> Optional[Tuple[int, int]]:
    """(identity, camera) from a Market-1501-style file name
    (``0002_c1s1_000451_03.jpg`` -> (2, 1)), None for other names."""
    found = _REID_NAME.match(osp.basename(path))
    return (int(found.group(1)), int(found.group(2))) if found else None


class RetrievalResult(NamedTuple):
    """Ranked gallery of every query.

    Attributes:
        query_paths (list[str]): Q query images.
        gallery_paths (list[str]): G gallery images.
        indices (Tensor): (Q, k) gallery indices, nearest first; -1 where
            fewer than k gallery images are left.
        distances (Tensor): (Q, k) their distances (inf for -1 entries);
            re-ranked distances when re-ranking is on.
    """
    query_paths: List[str]
    gallery_paths: List[str]
    indices: Tensor
    distances: Tensor

    def to_dict(self) -> Dict:
        """JSON-ready: per query its path and ranked list (rank, path,
        distance). Where file names follow Market-1501's
        (``0002_c1s1_000451_03.jpg``), each image also gets ``identity``
        and ``camera`` and each result ``same_identity``."""
        queries = []
        for q, path in enumerate(self.query_paths):
            labels = reid_name_labels(path)
            ranked = []
            for rank, (g, dist) in enumerate(
                    zip(self.indices[q].tolist(), self.distances[q].tolist()),
                    1):
                if g < 0:
                    break
                entry = dict(
                    rank=rank,
                    path=self.gallery_paths[g],
                    distance=float(dist))
                found = reid_name_labels(self.gallery_paths[g])
                if found is not None:
                    entry.update(identity=found[0], camera=found[1])
                    if labels is not None:
                        entry['same_identity'] = found[0] == labels[0]
                ranked.append(entry)
            query = dict(path=path)
            if labels is not None:
                query.update(identity=labels[0], camera=labels[1])
            query['results'] = ranked
            queries.append(query)
        return dict(topk=int(self.indices.shape[1]), queries=queries)


def rank_by_distance(
        dist: Tensor,
        topk: int,
        excluded: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """The ``topk`` smallest entries of every row, ties by column index.

    Args:
        dist (Tensor): (Q, G) distances.
        topk (int): Entries kept per row.
        excluded (Tensor, optional): (Q, G) bool, entries left out.

    Returns:
        tuple: indices (Q, topk), -1 past the valid entries, and their
        distances (inf there).
    """
    if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
        raise ValueError(f'topk must be a positive int, got {topk!r}')
    dist = dist.clone()
    if excluded is not None:
        dist[excluded] = float('inf')
    dist, order = torch.sort(dist, dim=1, stable=True)
    width = min(topk, dist.shape[1])
    dist, order = dist[:, :width], order[:, :width]
    if excluded is not None:
        left = ~excluded.gather(1, order)
        order = torch.where(left, order, -1)
        dist = torch.where(left, dist, float('inf'))
    if width < topk:
        pad = topk - width
        order = torch.cat([order, order.new_full((len(order), pad), -1)], 1)
        dist = torch.cat(
            [dist, dist.new_full((len(dist), pad), float('inf'))], 1)
    return order, dist


@torch.no_grad()
def retrieve(model: nn.Module,
             query: ImageSource,
             gallery: ImageSource,
             topk: int = 10,
             metric: str = 'euclidean',
             rerank: bool = False,
             k1: int = 20,
             k2: int = 6,
             lambda_value: float = 0.3,
             exclude_same_file: bool = True,
             batch_size: int = 32) -> RetrievalResult:
    """Rank the gallery images for every query image.

    Args:
        model (nn.Module): A model from :func:`~mmattn.apis.init_model`.
        query (str | Sequence[str]): Query image(s) or folder(s), see
            :func:`list_images`.
        gallery (str | Sequence[str]): Gallery image(s) or folder(s).
        topk (int): Gallery images kept per query. Defaults to 10.
        metric (str): ``'euclidean'`` or ``'cosine'`` (on the normalised
            features both give the same order). Defaults to
            ``'euclidean'``.
        rerank (bool): k-reciprocal re-ranking (Zhong et al. 2017) of the
            distances, with ``k1``, ``k2`` and ``lambda_value``.
            Defaults to False.
        k1, k2, lambda_value: Re-ranking parameters (defaults 20, 6, 0.3,
            as ``ReIDMetric``).
        exclude_same_file (bool): Leave a query's own file out of its
            ranking when it is also in the gallery. Defaults to True.
        batch_size (int): Images per forward pass. Defaults to 32.

    Returns:
        RetrievalResult: Paths, (Q, topk) gallery indices and distances.
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'metric must be one of {DISTANCE_METRICS}, got '
                         f'{metric!r}')
    query_feats, query_paths = extract_image_features(model, query, batch_size)
    gallery_feats, gallery_paths = extract_image_features(
        model, gallery, batch_size)
    if rerank:
        dist = k_reciprocal_rerank(
            query_feats,
            gallery_feats,
            k1=k1,
            k2=k2,
            lambda_value=lambda_value,
            metric=metric)
    else:
        dist = pairwise_distance(query_feats, gallery_feats, metric)
    excluded = None
    if exclude_same_file:
        real = [osp.realpath(p) for p in gallery_paths]
        excluded = torch.tensor([[osp.realpath(q) == g for g in real]
                                 for q in query_paths])
        if not excluded.any():
            excluded = None
    indices, distances = rank_by_distance(dist, topk, excluded)
    return RetrievalResult(query_paths, gallery_paths, indices, distances)


def retrieval_grid(result: RetrievalResult,
                   cell: Tuple[int, int] = (128, 64),
                   queries: Optional[Sequence[int]] = None):
    """The ranked-results picture of a retrieval: one row per query, its
    top-k gallery images framed green / red (same / other identity) when the
    file names carry identities (Market-1501 style), grey otherwise
    (:func:`~mmattn.visualization.draw_rank_grid`).

    Args:
        result (RetrievalResult): From :func:`retrieve`.
        cell (tuple[int, int]): (height, width) of every image.
        queries (Sequence[int], optional): Query rows to draw; all by
            default.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    import mmcv

    from mmattn.visualization import draw_rank_grid

    rows = list(range(len(result.query_paths))) if queries is None else \
        list(queries)
    bad = [r for r in rows if not 0 <= r < len(result.query_paths)]
    if bad or not rows:
        raise ValueError(f'queries must be indices in [0, '
                         f'{len(result.query_paths)}), got {bad or rows}')

    def load(path):
        return mmcv.imresize(
            mmcv.imread(path, channel_order='rgb'), (cell[1], cell[0]))

    query_images, gallery_images, matches, captions = [], [], [], []
    for row in rows:
        labels = reid_name_labels(result.query_paths[row])
        images, flags = [], []
        for g in result.indices[row].tolist():
            if g < 0:
                images.append(None)
                flags.append(None)
                continue
            images.append(load(result.gallery_paths[g]))
            found = reid_name_labels(result.gallery_paths[g])
            flags.append(None if labels is None or found is None else found[0]
                         == labels[0])
        caption = osp.basename(result.query_paths[row])
        known = [f for f in flags if f is not None]
        if labels is not None and known:
            caption += f': {sum(known)}/{len(known)} same identity'
        query_images.append(load(result.query_paths[row]))
        gallery_images.append(images)
        matches.append(flags)
        captions.append(caption)
    return draw_rank_grid(
        query_images,
        gallery_images,
        matches,
        captions=captions,
        cell=tuple(cell))
