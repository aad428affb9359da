from .base_reid_dataset import (CUHK03NP, MSMT17, BaseReIDDataset,
                                DukeMTMCReID, Market1501)
from .brown import BrownDataset
from .face import BaseFacePairDataset, FaceImageFolder, FacePairList, LFWPairs
from .patch_transforms import PackPatchInputs, RandomPatchFlipRotate
from .samplers import *  # noqa: F401,F403
from .synthetic import (COCO_DETECTION_CLASSES, DEMO_PRESET, TINY_PRESET,
                        make_coco_detection, make_coco_keypoints,
                        make_synthetic_reid)

__all__ = [
    'BaseReIDDataset', 'Market1501', 'DukeMTMCReID', 'MSMT17', 'CUHK03NP',
    'make_synthetic_reid', 'DEMO_PRESET', 'TINY_PRESET', 'BaseFacePairDataset',
    'FaceImageFolder', 'FacePairList', 'LFWPairs', 'BrownDataset',
    'PackPatchInputs', 'RandomPatchFlipRotate', 'COCO_DETECTION_CLASSES',
    'make_coco_detection', 'make_coco_keypoints'
]
