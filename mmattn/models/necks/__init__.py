from .bnneck import BNNeck
from .face_embedding import FaceEmbeddingNeck

__all__ = ['BNNeck', 'FaceEmbeddingNeck']
