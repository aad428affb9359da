from .attention_backbone import AttentionBackbone

__all__ = ['AttentionBackbone']
