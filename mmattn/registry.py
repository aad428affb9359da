"""mmattn registries: children of mmpretrain's, under the scope ``mmattn``.

A config with ``default_scope='mmattn'`` finds mmattn components first and
falls back to mmpretrain's and then mmengine's, so stock backbones (``ResNet``,
``MobileNetV2``), transforms and data preprocessors need no prefix. Configs of
other OpenMMLab projects (mmpretrain, mmdet, mmpose) reach mmattn components
with ``custom_imports=dict(imports=['mmattn'])`` and the ``mmattn.`` prefix.
"""
from mmengine.registry import Registry
from mmpretrain.registry import DATA_SAMPLERS as MMPRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS
from mmpretrain.registry import EVALUATORS as MMPRETRAIN_EVALUATORS
from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as MMPRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRETRAIN_LOOPS
from mmpretrain.registry import METRICS as MMPRETRAIN_METRICS
from mmpretrain.registry import MODEL_WRAPPERS as MMPRETRAIN_MODEL_WRAPPERS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import RUNNERS as MMPRETRAIN_RUNNERS
from mmpretrain.registry import TASK_UTILS as MMPRETRAIN_TASK_UTILS
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRETRAIN_VISUALIZERS
from mmpretrain.registry import \
    WEIGHT_INITIALIZERS as MMPRETRAIN_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATORS',
    'VISUALIZERS', 'VISBACKENDS', 'register_all_modules'
]


def _child(name, parent, location):
    registry = Registry(
        name, parent=parent, scope='mmattn', locations=[location])
    # mmengine resolves ``'<scope>.<Type>'`` from another project's registry
    # (mmdet, mmpose) only when ``<scope>`` is a direct child of its root
    # registry, and mmattn's sit under mmpretrain's. Listing the same
    # registry at the root too lets their configs write
    # ``type='mmattn.AttentionBackbone'``.
    registry._get_root_registry()._children.setdefault('mmattn', registry)
    return registry


RUNNERS = _child('runner', MMPRETRAIN_RUNNERS, 'mmattn.engine')
LOOPS = _child('loop', MMPRETRAIN_LOOPS, 'mmattn.engine')
HOOKS = _child('hook', MMPRETRAIN_HOOKS, 'mmattn.engine')
LOG_PROCESSORS = _child('log processor', MMPRETRAIN_LOG_PROCESSORS,
                        'mmattn.engine')
OPTIMIZERS = _child('optimizer', MMPRETRAIN_OPTIMIZERS, 'mmattn.engine')
OPTIM_WRAPPERS = _child('optim wrapper', MMPRETRAIN_OPTIM_WRAPPERS,
                        'mmattn.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'mmattn.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMPRETRAIN_PARAM_SCHEDULERS,
                          'mmattn.engine')
DATASETS = _child('dataset', MMPRETRAIN_DATASETS, 'mmattn.datasets')
DATA_SAMPLERS = _child('data sampler', MMPRETRAIN_DATA_SAMPLERS,
                       'mmattn.datasets')
TRANSFORMS = _child('transform', MMPRETRAIN_TRANSFORMS, 'mmattn.datasets')
MODELS = _child('model', MMPRETRAIN_MODELS, 'mmattn.models')
MODEL_WRAPPERS = _child('model_wrapper', MMPRETRAIN_MODEL_WRAPPERS,
                        'mmattn.models')
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMPRETRAIN_WEIGHT_INITIALIZERS, 'mmattn.models')
TASK_UTILS = _child('task util', MMPRETRAIN_TASK_UTILS, 'mmattn.models')
METRICS = _child('metric', MMPRETRAIN_METRICS, 'mmattn.evaluation')
EVALUATORS = _child('evaluator', MMPRETRAIN_EVALUATORS, 'mmattn.evaluation')
VISUALIZERS = _child('visualizer', MMPRETRAIN_VISUALIZERS, 'mmattn.engine')
VISBACKENDS = _child('vis_backend', MMPRETRAIN_VISBACKENDS, 'mmattn.engine')


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmattn module so that its registrations take effect.

    Args:
        init_default_scope (bool): Also make ``mmattn`` the current default
            scope (as ``default_scope='mmattn'`` in a config would).
    """
    # Stock components (ResNet, PackInputs, ...) are found through the
    # parent registries, which are filled only once mmpretrain is imported.
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    register_mmpretrain(init_default_scope=False)
    import mmattn.datasets  # noqa: F401
    import mmattn.engine  # noqa: F401
    import mmattn.evaluation  # noqa: F401
    import mmattn.models  # noqa: F401
    if init_default_scope:
        from mmengine.registry import DefaultScope
        if DefaultScope.get_current_instance() is None \
                or not DefaultScope.check_instance_created('mmattn'):
            DefaultScope.get_instance('mmattn', scope_name='mmattn')
