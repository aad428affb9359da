"""LDA + t-SNE of test features and the Fisher score (seed 001 appendix B).

As in the paper: LDA projects the features of the chosen identities onto
the subspace that best separates them, the LDA features are standardised
(zero mean, unit variance per dimension), their Fisher score measures the
separability and t-SNE draws them in 2-D.
"""
from typing import NamedTuple, Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure


def fisher_score(features: np.ndarray, labels: np.ndarray) -> float:
    """Mean per-dimension Fisher score (Duda, Hart and Stork).

    For dimension j with overall mean ``mu_j`` and, for class k of
    ``n_k`` samples, mean ``mu_kj`` and (population) variance
    ``var_kj``::

        F_j = sum_k n_k (mu_kj - mu_j)^2 / sum_k n_k var_kj

    i.e. between-class over within-class variance; the score is the mean
    of ``F_j`` over dimensions. It is invariant to scaling a dimension.

    Args:
        features (np.ndarray): (N, D).
        labels (np.ndarray): (N,) class labels, at least two classes.

    Returns:
        float: The Fisher score (``inf`` if some dimension has zero
        within-class variance but non-zero between-class variance).
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.shape != (features.shape[0], ):
        raise ValueError('features must be (N, D) and labels (N,), got '
                         f'{features.shape} and {labels.shape}')
    classes = np.unique(labels)
    if classes.size < 2:
        raise ValueError('the Fisher score needs at least two classes, got '
                         f'{classes.size}')
    mean = features.mean(0)
    between = np.zeros(features.shape[1])
    within = np.zeros(features.shape[1])
    for cls in classes:
        part = features[labels == cls]
        between += len(part) * (part.mean(0) - mean)**2
        within += len(part) * part.var(0)
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = np.where(between == 0, 0.0, between / within)
    return float(ratio.mean())


class Projection(NamedTuple):
    """Result of :func:`lda_tsne`.

    Attributes:
        lda (np.ndarray): Standardised LDA features (N, n_components).
        embedding (np.ndarray): t-SNE coordinates (N, 2).
        fisher (float): :func:`fisher_score` of ``lda``.
    """
    lda: np.ndarray
    embedding: np.ndarray
    fisher: float


def lda_tsne(features: np.ndarray,
             labels: np.ndarray,
             n_components: Optional[int] = None,
             perplexity: Optional[float] = None,
             seed: int = 0) -> Projection:
    """LDA, standardisation, Fisher score and t-SNE of labelled features.

    Args:
        features (np.ndarray): (N, D).
        labels (np.ndarray): (N,) identities.
        n_components (int, optional): LDA dimensions, at most
            ``min(num_classes - 1, D)`` (the default).
        perplexity (float, optional): t-SNE perplexity; defaults to
            ``min(30, (N - 1) / 3)`` (it must stay below N).
        seed (int): t-SNE random state.

    Returns:
        Projection: LDA features, 2-D embedding, Fisher score.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.manifold import TSNE
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    num_classes = np.unique(labels).size
    if num_classes < 2:
        raise ValueError(
            f'LDA needs at least two identities, got {num_classes}')
    max_dims = min(num_classes - 1, features.shape[1])
    if n_components is None:
        n_components = max_dims
    if not isinstance(n_components, int) or not 1 <= n_components <= max_dims:
        raise ValueError(f'n_components must be an int in [1, {max_dims}] '
                         f'(num identities - 1), got {n_components!r}')
    num = features.shape[0]
    if num < 4:
        raise ValueError(f't-SNE needs at least 4 samples, got {num}')
    if perplexity is None:
        perplexity = min(30.0, (num - 1) / 3)
    lda = LinearDiscriminantAnalysis(n_components=n_components).fit_transform(
        features, labels)
    std = lda.std(0)
    lda = (lda - lda.mean(0)) / np.where(std > 0, std, 1.0)
    if lda.shape[1] >= 2:
        embedding = TSNE(
            n_components=2,
            perplexity=perplexity,
            init='pca',
            random_state=seed).fit_transform(lda)
    else:
        # One LDA dimension: plot it against zero rather than run t-SNE.
        embedding = np.concatenate([lda, np.zeros_like(lda)], 1)
    return Projection(lda, embedding, fisher_score(lda, labels))


def plot_projection(projection: Projection,
                    labels: Sequence,
                    title: str = '',
                    ax=None) -> Figure:
    """Scatter the t-SNE embedding, one colour per identity.

    Args:
        projection (Projection): From :func:`lda_tsne`.
        labels (Sequence): (N,) identities.
        title (str): Title; the Fisher score is appended.
        ax (matplotlib Axes, optional): Draw into it (its figure is
            returned); a new 4x4-inch figure otherwise.
    """
    if ax is None:
        fig = Figure(figsize=(4, 4), dpi=80)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    labels = np.asarray(labels)
    classes = np.unique(labels)
    cmap = colormaps['tab20' if classes.size > 10 else 'tab10']
    for k, cls in enumerate(classes):
        pts = projection.embedding[labels == cls]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=14, color=cmap(k % cmap.N), label=str(cls))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        f'{title}\nFisher score {projection.fisher:.3f}'.strip(), fontsize=9)
    if classes.size <= 12:
        ax.legend(fontsize=6, loc='best', title='id', title_fontsize=6)
    fig.tight_layout()
    return fig
