from .bilevel_loop import (BilevelDataLoader, BilevelEpochBasedTrainLoop,
                           DatasetSubset, dataset_labels, stratified_split)

__all__ = [
    'BilevelDataLoader', 'BilevelEpochBasedTrainLoop', 'DatasetSubset',
    'dataset_labels', 'stratified_split'
]
