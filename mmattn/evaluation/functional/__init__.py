from .reid_ranking import (DISTANCE_METRICS, evaluate_rank,
                           evaluate_rank_from_features, k_reciprocal_rerank,
                           pairwise_distance)

__all__ = [
    'DISTANCE_METRICS', 'pairwise_distance', 'evaluate_rank',
    'evaluate_rank_from_features', 'k_reciprocal_rerank'
]
