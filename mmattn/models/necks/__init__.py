from .bnneck import BNNeck, PoolingNeck
from .face_embedding import FaceEmbeddingNeck

__all__ = ['BNNeck', 'PoolingNeck', 'FaceEmbeddingNeck']
