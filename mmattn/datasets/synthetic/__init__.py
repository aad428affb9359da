from .coco import (COCO_DETECTION_CLASSES, COCO_KEYPOINT_NAMES, COCO_SKELETON,
                   make_coco_detection, make_coco_keypoints,
                   render_detection_image, render_keypoint_image)
from .faces import (DEMO_FACE_PRESET, TINY_FACE_PRESET, FaceIdentity,
                    make_synthetic_faces, render_face)
from .patches import (DEMO_PATCHES_PRESET, TINY_PATCHES_PRESET,
                      make_synthetic_patches)
from .reid import (DEMO_PRESET, MARKET1501_FILENAME, SPLIT_DIRS, TINY_PRESET,
                   CameraStyle, PersonAppearance, make_synthetic_reid,
                   render_person_image)

__all__ = [
    'DEMO_PRESET', 'MARKET1501_FILENAME', 'SPLIT_DIRS', 'TINY_PRESET',
    'CameraStyle', 'PersonAppearance', 'make_synthetic_reid',
    'render_person_image', 'DEMO_PATCHES_PRESET', 'TINY_PATCHES_PRESET',
    'make_synthetic_patches', 'DEMO_FACE_PRESET', 'TINY_FACE_PRESET',
    'FaceIdentity', 'make_synthetic_faces', 'render_face',
    'COCO_DETECTION_CLASSES', 'COCO_KEYPOINT_NAMES', 'COCO_SKELETON',
    'make_coco_detection', 'make_coco_keypoints', 'render_detection_image',
    'render_keypoint_image'
]
