from .inference import (build_dataset, class_logits, display_image,
                        extract_features, feature_function, init_model,
                        is_reid_model, load_config, preprocess, raw_feature,
                        reid_labels)
from .retrieval import (IMAGE_EXTENSIONS, RetrievalResult,
                        extract_image_features, image_pipeline, list_images,
                        rank_by_distance, reid_name_labels, retrieval_grid,
                        retrieve)

__all__ = [
    'load_config', 'init_model', 'is_reid_model', 'feature_function',
    'raw_feature', 'class_logits', 'build_dataset', 'preprocess',
    'display_image', 'extract_features', 'reid_labels', 'IMAGE_EXTENSIONS',
    'list_images', 'image_pipeline', 'extract_image_features',
    'reid_name_labels', 'RetrievalResult', 'rank_by_distance', 'retrieve',
    'retrieval_grid'
]
