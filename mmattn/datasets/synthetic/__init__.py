from .reid import (DEMO_PRESET, MARKET1501_FILENAME, SPLIT_DIRS, TINY_PRESET,
                   CameraStyle, PersonAppearance, make_synthetic_reid,
                   render_person_image)

__all__ = [
    'DEMO_PRESET', 'MARKET1501_FILENAME', 'SPLIT_DIRS', 'TINY_PRESET',
    'CameraStyle', 'PersonAppearance', 'make_synthetic_reid',
    'render_person_image'
]
