"""The mode dispatch shared by the models whose test output is an embedding."""
from typing import List, Optional

import torch
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample


class EmbeddingModel(BaseModel):
    """A model that trains with ``loss()`` and tests by embedding inputs
    (Re-ID, face recognition, patch descriptors).

    Subclasses implement ``loss(inputs, data_samples)``,
    ``predict(inputs, data_samples)`` and ``embed(inputs)``; ``forward``
    picks one by mmengine's ``mode`` (``'tensor'`` returns the embeddings).
    """

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.embed(inputs)
        raise ValueError(f'{type(self).__name__}: invalid mode {mode!r}; '
                         "expected 'loss', 'predict' or 'tensor'")
