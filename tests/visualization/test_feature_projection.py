import numpy as np
import pytest

from mmattn.visualization import (figure_to_image, fisher_score, lda_tsne,
                                  plot_projection)


def test_fisher_score_hand_computed():
    # Dimension 1: classes {0, 2} and {4, 6}: between 2*2^2 + 2*2^2 = 16,
    # within 2*1 + 2*1 = 4 -> 4. Dimension 2: {0, 0} and {1, 3}: between
    # 2*1 + 2*1 = 4, within 0 + 2*1 = 2 -> 2. Mean 3.
    feats = np.array([[0, 0], [2, 0], [4, 1], [6, 3]], dtype=float)
    labels = np.array([0, 0, 1, 1])
    assert fisher_score(feats, labels) == pytest.approx(3.0)
    # Invariant to scaling and shifting a dimension.
    assert fisher_score(feats * [10, 0.1] + 5, labels) == pytest.approx(3.0)


def test_fisher_score_errors():
    with pytest.raises(ValueError, match='two classes'):
        fisher_score(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match='labels'):
        fisher_score(np.zeros((3, 2)), np.zeros(4))


def test_lda_tsne_separates_clusters():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16)) * 4
    labels = np.repeat(np.arange(4), 6)
    feats = centers[labels] + rng.normal(size=(24, 16))
    projection = lda_tsne(feats, labels, seed=0)
    assert projection.lda.shape == (24, 3)
    assert projection.embedding.shape == (24, 2)
    np.testing.assert_allclose(projection.lda.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(projection.lda.std(0), 1, atol=1e-9)
    assert projection.fisher == pytest.approx(
        fisher_score(projection.lda, labels))
    # Shuffled labels carry no class structure: a much lower score.
    noise = lda_tsne(feats, rng.permutation(labels), seed=0)
    assert projection.fisher > 5 * noise.fisher
    image = figure_to_image(plot_projection(projection, labels, 'x'))
    assert image.ndim == 3 and image.shape[2] == 3 and image.std() > 0


def test_lda_tsne_checks_dimensions():
    feats, labels = np.zeros((8, 4)), np.repeat([0, 1], 4)
    with pytest.raises(ValueError, match=r'n_components must be .* \[1, 1\]'):
        lda_tsne(feats, labels, n_components=2)
