from .base_reid_dataset import (CUHK03NP, MSMT17, BaseReIDDataset,
                                DukeMTMCReID, Market1501)
from .samplers import *  # noqa: F401,F403
from .synthetic import TINY_PRESET, DEMO_PRESET, make_synthetic_reid

__all__ = [
    'BaseReIDDataset', 'Market1501', 'DukeMTMCReID', 'MSMT17', 'CUHK03NP',
    'make_synthetic_reid', 'DEMO_PRESET', 'TINY_PRESET'
]
from .face import (BaseFacePairDataset, FaceImageFolder,  # noqa: E402
                   FacePairList, LFWPairs)
__all__ += [
    'BaseFacePairDataset', 'FaceImageFolder', 'FacePairList', 'LFWPairs'
]
from .brown import BrownDataset  # noqa: E402
from .patch_transforms import (PackPatchInputs,  # noqa: E402
                               RandomPatchFlipRotate)
__all__ += ['BrownDataset', 'PackPatchInputs', 'RandomPatchFlipRotate']
from .synthetic import (COCO_DETECTION_CLASSES,  # noqa: E402
                        make_coco_detection, make_coco_keypoints)
__all__ += [
    'COCO_DETECTION_CLASSES', 'make_coco_detection', 'make_coco_keypoints'
]
