from .inference import (build_dataset, class_logits, display_image,
                        extract_features, feature_function, init_model,
                        is_reid_model, load_config, preprocess, raw_feature,
                        reid_labels)

__all__ = [
    'load_config', 'init_model', 'is_reid_model', 'feature_function',
    'raw_feature', 'class_logits', 'build_dataset', 'preprocess',
    'display_image', 'extract_features', 'reid_labels'
]
