import subprocess
import sys
import textwrap

import pytest

from mmattn.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS


def test_components_are_registered_in_mmattn_scope():
    assert MODELS.scope == 'mmattn'
    for name in ('ReID', 'BNNeck', 'ReIDHead', 'TripletLoss'):
        assert MODELS.get(name) is not None, name
    for name in ('Market1501', 'DukeMTMCReID', 'MSMT17', 'CUHK03NP'):
        assert DATASETS.get(name) is not None, name
    assert DATA_SAMPLERS.get('PKSampler') is not None
    assert METRICS.get('ReIDMetric') is not None


def test_stock_mmpretrain_components_resolve_through_parents():
    # default_scope='mmattn' must still find mmpretrain's backbones.
    backbone = MODELS.build(dict(type='ResNet', depth=18))
    assert type(backbone).__module__.startswith('mmpretrain')


def test_mmpretrain_config_uses_mmattn_by_custom_imports():
    # A fresh interpreter: only custom_imports may bring mmattn in.
    code = textwrap.dedent("""
        import torch
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmengine.utils import import_modules_from_strings
        from mmpretrain.registry import MODELS
        cfg = Config(dict(
            custom_imports=dict(
                imports=['mmattn'], allow_failed_imports=False),
            default_scope='mmpretrain',
            model=dict(
                type='ImageClassifier',
                backbone=dict(type='ResNet', depth=18),
                neck=dict(type='mmattn.BNNeck', in_channels=512),
                head=dict(type='LinearClsHead', num_classes=5,
                          in_channels=512))))
        import_modules_from_strings(**cfg.custom_imports)
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        assert type(model.neck).__name__ == 'BNNeck'
        assert type(model.neck).__module__.startswith('mmattn')
        out = model(torch.randn(2, 3, 32, 32))
        assert out.shape == (2, 5), out.shape
        print('OK')
    """)
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith('OK')


def test_a_sibling_project_registry_finds_mmattn_by_prefix():
    # mmdet / mmpose registries are children of mmengine's root, not of
    # mmpretrain's; 'mmattn.X' must resolve from them too.
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmengine.registry import Registry
    sibling = Registry('model', parent=ROOT_MODELS, scope='siblingproj')
    assert sibling.get('mmattn.BNNeck') is MODELS.get('BNNeck')
    assert sibling.get('mmattn.AttentionBackbone') is MODELS.get(
        'AttentionBackbone')


def test_unknown_type_names_the_registry_and_type():
    with pytest.raises(KeyError, match='NoSuchBackbone'):
        MODELS.build(dict(type='NoSuchBackbone'))


def test_import_silences_only_mmcv_lite_deformable_attention_warning():
    """With mmcv-lite (the core stack) mmpretrain's import warns 'Fail to
    import MultiScaleDeformableAttention', which reads like a broken set-up;
    ``import mmattn`` silences that one message and nothing else."""
    code = textwrap.dedent("""
        import warnings
        import mmattn  # noqa: F401
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn(
                'Fail to import ``MultiScaleDeformableAttention`` from '
                '``mmcv.ops.multi_scale_deform_attn``, You should install '
                '``mmcv`` rather than ``mmcv-lite``', UserWarning)
            warnings.warn('Fail to import something else', UserWarning)
        print([str(w.message) for w in caught])
        """)
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert out.strip() == "['Fail to import something else']"
