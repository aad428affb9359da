import numpy as np
import pytest
import torch

from mmattn.evaluation.functional import evaluate_rank, pairwise_distance
from mmattn.visualization import (MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR,
                                  RankGridLayout, draw_rank_grid, rank_gallery)


def test_rank_gallery_known_case():
    # Query id 1, camera 0 at 0. Gallery: a same-camera image of id 1
    # (junk), id 2, id 1 from camera 1 and id 3 tied with it.
    query = torch.tensor([[0.0]])
    gallery = torch.tensor([[0.1], [0.2], [0.3], [0.3]])
    ranks = rank_gallery(
        query,
        gallery,
        torch.tensor([1]),
        torch.tensor([1, 2, 1, 3]),
        torch.tensor([0]),
        torch.tensor([0, 1, 1, 0]),
        topk=4)
    # Junk dropped, the tie broken by gallery index, the last slot empty.
    assert ranks.indices.tolist() == [[1, 2, 3, -1]]
    assert ranks.is_match.tolist() == [[False, True, False, False]]
    assert ranks.distances[0, :3].tolist() == pytest.approx([0.04, 0.09, 0.09])
    assert ranks.distances[0, 3] == float('inf')


def test_rank_gallery_agrees_with_the_metric():
    gen = torch.Generator().manual_seed(0)
    q, g = torch.randn(12, 5, generator=gen), torch.randn(40, 5, generator=gen)
    q_pids = torch.randint(0, 6, (12, ), generator=gen)
    g_pids = torch.randint(0, 6, (40, ), generator=gen)
    q_cams = torch.randint(0, 3, (12, ), generator=gen)
    g_cams = torch.randint(0, 3, (40, ), generator=gen)
    ranks = rank_gallery(q, g, q_pids, g_pids, q_cams, g_cams, topk=40)
    result = evaluate_rank(
        pairwise_distance(q, g), q_pids, g_pids, q_cams, g_cams, max_rank=5)
    # CMC recomputed from the rank lists: first match within the top k.
    valid = ranks.is_match.any(1)
    first = ranks.is_match.float().argmax(1)[valid]
    cmc = torch.stack([(first < k).double().mean() for k in range(1, 6)])
    torch.testing.assert_close(cmc, result['cmc'])
    # No junk (same id and camera) in any list.
    shown = ranks.indices.clamp_min(0)
    junk = (g_pids[shown] == q_pids[:, None]) & (g_cams[shown]
                                                 == q_cams[:, None]) & (
                                                     ranks.indices >= 0)
    assert not junk.any()


def test_rank_gallery_rejects_bad_input():
    with pytest.raises(ValueError, match='topk'):
        rank_gallery(
            torch.zeros(1, 2),
            torch.zeros(2, 2),
            torch.tensor([0]),
            torch.tensor([0, 1]),
            torch.tensor([0]),
            torch.tensor([0, 1]),
            topk=0)
    with pytest.raises(ValueError, match='gallery_cams'):
        rank_gallery(
            torch.zeros(1, 2), torch.zeros(2, 2), torch.tensor([0]),
            torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([0]))


def solid(color, shape=(20, 10)):
    return np.full(shape + (3, ), color, np.uint8)


def test_draw_rank_grid_frames_at_the_right_pixels():
    cell, border = (16, 8), 3
    layout = RankGridLayout(2, 3, cell=cell, border=border, gap=2, query_gap=5)
    grid = draw_rank_grid([solid(10), solid(20)], [[
        solid(30), solid(40), None
    ], [solid(50), solid(60), solid(70)]],
                          [[True, False, False], [False, False, True]],
                          layout=layout)
    assert grid.shape == layout.shape + (3, )
    # Height: gap + rows * (frame + gap); width: query + gap + 3 cells.
    assert layout.shape == (2 + 2 * (16 + 6 + 2), 2 + 4 * (8 + 6 + 2) + 5)
    expected = {
        (0, 0): QUERY_COLOR,
        (0, 1): MATCH_COLOR,
        (0, 2): MISMATCH_COLOR,
        (1, 0): QUERY_COLOR,
        (1, 1): MISMATCH_COLOR,
        (1, 2): MISMATCH_COLOR,
        (1, 3): MATCH_COLOR
    }
    fills = {
        (0, 0): 10,
        (0, 1): 30,
        (0, 2): 40,
        (1, 0): 20,
        (1, 1): 50,
        (1, 2): 60,
        (1, 3): 70
    }
    fh, fw = cell[0] + 2 * border, cell[1] + 2 * border
    for (row, col), color in expected.items():
        y, x = layout.frame_origin(row, col)
        # All four frame sides, and the image inside.
        for py, px in ((y, x), (y + fh - 1, x + fw - 1), (y + fh // 2, x),
                       (y, x + fw - 1), (y + border - 1, x + border - 1)):
            assert tuple(grid[py, px]) == color, (row, col, py, px)
        assert (grid[y + border:y + fh - border,
                     x + border:x + fw - border] == fills[row, col]).all()
    # The empty cell (fewer valid gallery images) stays background.
    y, x = layout.frame_origin(0, 3)
    assert (grid[y:y + fh, x:x + fw] == 255).all()
    # Frames start exactly at frame_origin: the pixel before is background.
    y, x = layout.frame_origin(0, 1)
    assert tuple(grid[y, x - 1]) == (255, 255, 255)


def test_draw_rank_grid_checks_lengths():
    with pytest.raises(ValueError, match='one entry per query'):
        draw_rank_grid([solid(0)], [], [])
    with pytest.raises(ValueError, match='match flags'):
        draw_rank_grid([solid(0)], [[solid(1)]], [[True, False]])
