from .dump_features import DumpFeatures
from .face_verification import FaceVerificationMetric
from .fpr95 import FPR95Metric
from .reid_metric import ReIDMetric

__all__ = [
    'DumpFeatures', 'FaceVerificationMetric', 'FPR95Metric', 'ReIDMetric'
]
