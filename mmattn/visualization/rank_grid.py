"""Ranked gallery lists and their picture: the query and its top-k gallery
images in a row, true matches framed green and wrong ones red."""
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import Tensor

from mmattn.evaluation.functional import pairwise_distance

MATCH_COLOR = (0, 190, 0)
MISMATCH_COLOR = (220, 0, 0)
QUERY_COLOR = (40, 40, 40)
# Frame of a result whose identity is unknown (plain image folders).
UNLABELLED_COLOR = (150, 150, 150)
BACKGROUND = 255


class RankList(NamedTuple):
    """Top-k of every query.

    Attributes:
        indices (Tensor): (Q, k) gallery indices, -1 where the valid gallery
            has fewer than k images.
        distances (Tensor): (Q, k) their distances (inf for -1 entries).
        is_match (Tensor): (Q, k) bool, the image shows the query's identity
            (always from another camera: same-camera images are junk).
    """
    indices: Tensor
    distances: Tensor
    is_match: Tensor


def rank_gallery(query: Tensor,
                 gallery: Tensor,
                 query_pids: Tensor,
                 gallery_pids: Tensor,
                 query_cams: Tensor,
                 gallery_cams: Tensor,
                 topk: int = 10,
                 metric: str = 'euclidean') -> RankList:
    """The first ``topk`` valid gallery images of each query.

    Follows the evaluation protocol of
    :mod:`mmattn.evaluation.functional.reid_ranking`: distances from
    :func:`pairwise_distance`, the gallery sorted by (distance, gallery
    index) (a stable sort), and the images with the query's identity *and*
    camera removed as junk.

    Args:
        query (Tensor): Query features (Q, D).
        gallery (Tensor): Gallery features (G, D).
        query_pids, gallery_pids (Tensor): Identities (Q,), (G,).
        query_cams, gallery_cams (Tensor): Cameras (Q,), (G,).
        topk (int): Images per query. Defaults to 10.
        metric (str): ``'euclidean'`` or ``'cosine'``.

    Returns:
        RankList: indices, distances and match flags, each (Q, topk).
    """
    if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
        raise ValueError(f'topk must be a positive int, got {topk!r}')
    for name, labels, size in (('query_pids', query_pids, len(query)),
                               ('query_cams', query_cams, len(query)),
                               ('gallery_pids', gallery_pids, len(gallery)),
                               ('gallery_cams', gallery_cams, len(gallery))):
        if not isinstance(labels, Tensor) or labels.shape != (size, ):
            raise ValueError(f'{name} must be a tensor of shape ({size},), '
                             f'got {getattr(labels, "shape", labels)}')
    dist = pairwise_distance(query, gallery, metric)
    dist, order = torch.sort(dist, dim=1, stable=True)
    valid = ~((gallery_pids[order] == query_pids.unsqueeze(1)) &
              (gallery_cams[order] == query_cams.unsqueeze(1)))
    # Move the valid entries to the front, keeping their order.
    front = torch.sort((~valid).to(torch.uint8), dim=1, stable=True).indices
    width = min(topk, order.size(1))
    front = front[:, :width]
    kept = valid.gather(1, front)
    indices = torch.where(kept, order.gather(1, front), -1)
    distances = torch.where(kept, dist.gather(1, front), float('inf'))
    is_match = kept & (
        gallery_pids[indices.clamp_min(0)] == query_pids.unsqueeze(1))
    if width < topk:
        pad = topk - width
        indices = torch.cat(
            [indices, indices.new_full((len(query), pad), -1)], 1)
        distances = torch.cat(
            [distances,
             distances.new_full((len(query), pad), float('inf'))], 1)
        is_match = torch.cat(
            [is_match, is_match.new_zeros((len(query), pad))], 1)
    return RankList(indices, distances, is_match)


class RankGridLayout:
    """Pixel geometry of a rank grid (shared by drawing and tests).

    Every image is resized to ``cell`` and framed by ``border`` pixels;
    framed cells are ``gap`` pixels apart, with ``query_gap`` pixels
    between the query and rank 1.

    Args:
        num_rows (int): Queries.
        topk (int): Gallery images per row.
        cell (tuple[int, int]): (height, width) of an image.
        border (int): Frame width.
        gap (int): Space between framed cells and around the grid.
        query_gap (int): Space between the query and rank 1.
        label_height (int): Space above each row for its caption (0: none).
    """

    def __init__(self,
                 num_rows: int,
                 topk: int,
                 cell: Tuple[int, int] = (128, 64),
                 border: int = 4,
                 gap: int = 4,
                 query_gap: int = 16,
                 label_height: int = 0):
        self.num_rows, self.topk = num_rows, topk
        self.cell, self.border, self.gap = tuple(cell), border, gap
        self.query_gap, self.label_height = query_gap, label_height
        self.frame = (cell[0] + 2 * border, cell[1] + 2 * border)

    @property
    def shape(self) -> Tuple[int, int]:
        """(height, width) of the whole grid."""
        height = self.gap + self.num_rows * (
            self.label_height + self.frame[0] + self.gap)
        width = self.frame_origin(0, self.topk)[1] + self.frame[1] + self.gap
        return height, width

    def frame_origin(self, row: int, col: int) -> Tuple[int, int]:
        """Top-left (y, x) of the frame of ``col`` (0: query, k: rank k)."""
        y = self.gap + row * (self.label_height + self.frame[0] + self.gap) \
            + self.label_height
        x = self.gap + col * (self.frame[1] + self.gap)
        if col > 0:
            x += self.query_gap
        return y, x


def _fit(image: np.ndarray, cell: Tuple[int, int]) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise TypeError('images must be (H, W, 3) uint8 RGB arrays, got '
                        f'{image.shape} {image.dtype}')
    return cv2.resize(image, (cell[1], cell[0]), interpolation=cv2.INTER_AREA)


def draw_rank_grid(query_images: Sequence[np.ndarray],
                   gallery_images: Sequence[Sequence[Optional[np.ndarray]]],
                   is_match: Sequence[Sequence[bool]],
                   captions: Optional[Sequence[str]] = None,
                   layout: Optional[RankGridLayout] = None,
                   **layout_kwargs) -> np.ndarray:
    """Draw one row per query: the query (dark frame), then its ranked
    gallery images framed green (true match), red (wrong identity) or grey
    (match flag None: identity unknown).

    Args:
        query_images (Sequence[np.ndarray]): Q RGB images.
        gallery_images (Sequence[Sequence]): Per query, k RGB images in rank
            order; None leaves a cell empty (fewer valid gallery images).
        is_match (Sequence[Sequence[bool | None]]): Per query, k match
            flags (None: unknown).
        captions (Sequence[str], optional): One caption per row, written
            above it (sets ``label_height`` to 14 if not given).
        layout (RankGridLayout, optional): Geometry; built from the sizes
            and ``layout_kwargs`` (``cell``, ``border``, ``gap`` ...)
            otherwise.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB grid.
    """
    num_rows = len(query_images)
    if len(gallery_images) != num_rows or len(is_match) != num_rows:
        raise ValueError('query_images, gallery_images and is_match must '
                         f'have one entry per query ({num_rows}), got '
                         f'{len(gallery_images)} and {len(is_match)}')
    topk = max([len(row) for row in gallery_images] + [1])
    if layout is None:
        if captions is not None:
            layout_kwargs.setdefault('label_height', 14)
        layout = RankGridLayout(num_rows, topk, **layout_kwargs)
    canvas = np.full(layout.shape + (3, ), BACKGROUND, dtype=np.uint8)
    b = layout.border

    def put(image, row, col, color):
        y, x = layout.frame_origin(row, col)
        fh, fw = layout.frame
        canvas[y:y + fh, x:x + fw] = color
        canvas[y + b:y + fh - b, x + b:x + fw - b] = _fit(image, layout.cell)

    for row in range(num_rows):
        if len(gallery_images[row]) != len(is_match[row]):
            raise ValueError(f'row {row}: {len(gallery_images[row])} gallery '
                             f'images but {len(is_match[row])} match flags')
        put(query_images[row], row, 0, QUERY_COLOR)
        for col, (image, match) in enumerate(
                zip(gallery_images[row], is_match[row]), 1):
            if image is not None:
                put(
                    image, row, col, UNLABELLED_COLOR if match is None else
                    MATCH_COLOR if match else MISMATCH_COLOR)
        if captions is not None and layout.label_height > 0:
            y, x = layout.frame_origin(row, 0)
            cv2.putText(canvas, str(captions[row]), (x, y - 3),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                        cv2.LINE_AA)
    return canvas


def rank_grid_rows(rank_list: RankList, rows: Sequence[int],
                   gallery_image: Callable) -> Tuple[List, List]:
    """Per selected query, its gallery images (via ``gallery_image(index)``)
    and match flags, in the form :func:`draw_rank_grid` takes."""
    images, matches = [], []
    for row in rows:
        idx = rank_list.indices[row].tolist()
        images.append([gallery_image(i) if i >= 0 else None for i in idx])
        matches.append(rank_list.is_match[row].tolist())
    return images, matches
