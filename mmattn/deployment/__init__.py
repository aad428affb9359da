from .onnx_export import (FeatureExtractor, derive_inference_model,
                          export_onnx, onnx_features, verify_onnx)

__all__ = [
    'FeatureExtractor', 'derive_inference_model', 'export_onnx',
    'onnx_features', 'verify_onnx'
]
