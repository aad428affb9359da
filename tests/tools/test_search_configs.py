"""Every search config parses and builds: the model (retrain configs from an
architecture JSON exported from their search config's model), the
weights / architecture optimiser dict with one param-scheduler list per
optimiser, the hooks; and seed 001 tables V-VI have one config per row."""
import glob
import os.path as osp
import time

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper

from mmattn.models.search import (collect_arch_parameters, save_architecture,
                                  searched_network)
from mmattn.registry import HOOKS, LOOPS, MODELS, PARAM_SCHEDULERS

SEARCH = osp.join(REPO_ROOT, 'configs/search')
CONFIGS = sorted(glob.glob(osp.join(SEARCH, '*.py')))

# Seed 001 table V (IBB ablation) and table VI (DCS ablation): row -> config.
# The DCS-FB / DCS-DNAS rows with IBB are the method's own configs.
TABLE_V = {
    'MobileNetV2': 'ablation_mobilenet-v2_market1501',
    'MobileNetV2 (Self-Attention)':
    'ablation_mobilenet-v2-self-attention_market1501',
    'DCS-FB (MobileNetV2) w/o IBB':
    'ablation_dcs-fb_mobilenet-v2_wo-ibb_market1501',
    'DCS-FB (MobileNetV2)': 'dcs-fb_mobilenet-v2_market1501',
    'TransReID': 'ablation_transreid_market1501',
    'DCS-FB (TransReID) w/o IBB':
    'ablation_dcs-fb_transreid_wo-ibb_market1501',
    'DCS-FB (TransReID)': 'dcs-fb_transreid_market1501',
    'FBNetV2-Large': 'ablation_fbnetv2-large_retrain_market1501',
    'FBNetV2-Large (Self-Attention)':
    'ablation_fbnetv2-large-self-attention_retrain_market1501',
    'DCS-DNAS (FBNetV2-Large) w/o IBB':
    'ablation_dcs-dnas_fbnetv2-large_wo-ibb_retrain_market1501',
    'DCS-DNAS (FBNetV2-Large)': 'dcs-dnas_fbnetv2-large_retrain_market1501',
}
TABLE_VI = {
    'MobileNetV2 with IBB':
    'ablation_mobilenet-v2_ibb_market1501',
    'MobileNetV2 (Self-Attention) with IBB':
    'ablation_mobilenet-v2-self-attention_ibb_market1501',
    'TransReID with IBB':
    'ablation_transreid_ibb_market1501',
    'FBNetV2-Large with IBB':
    'ablation_fbnetv2-large_ibb_retrain_market1501',
    'FBNetV2-Large (Self-Attention) with IBB':
    'ablation_fbnetv2-large-self-attention_ibb_retrain_market1501',
}
# What each row needs: (attention type injected or None, IBB or not).
ROW_PARTS = {
    'MobileNetV2': (None, False),
    'MobileNetV2 (Self-Attention)': ('NonLocalAttention', False),
    'DCS-FB (MobileNetV2) w/o IBB': ('DCSAttention', False),
    'DCS-FB (MobileNetV2)': ('DCSAttention', True),
    'TransReID': (None, False),
    'DCS-FB (TransReID) w/o IBB': ('DCSViTAttention', False),
    'DCS-FB (TransReID)': ('DCSViTAttention', True),
    'FBNetV2-Large': (None, False),
    'FBNetV2-Large (Self-Attention)': ('NonLocalAttention', False),
    'DCS-DNAS (FBNetV2-Large) w/o IBB': ('DCSAttention', False),
    'DCS-DNAS (FBNetV2-Large)': ('DCSAttention', True),
    'MobileNetV2 with IBB': (None, True),
    'MobileNetV2 (Self-Attention) with IBB': ('NonLocalAttention', True),
    'TransReID with IBB': (None, True),
    'FBNetV2-Large with IBB': (None, True),
    'FBNetV2-Large (Self-Attention) with IBB': ('NonLocalAttention', True),
}
# Builds slower than this (seconds) are printed (pytest -s shows them).
SLOW_BUILD_S = 10.0


def load(name_or_path):
    path = name_or_path if osp.isabs(name_or_path) else osp.join(
        SEARCH, name_or_path + '.py')
    return Config.fromfile(path)


def model_cfg(cfg):
    """``cfg.model`` with the top-level data_preprocessor, as the Runner
    passes it."""
    model = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(
        cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return model


def searched_backbone(model):
    """The ``SearchedBackbone`` config of a retrain model config, or None."""
    backbone = model.get('backbone') or {}
    return backbone if backbone.get('type') == 'SearchedBackbone' else None


@pytest.fixture(scope='module')
def arch_files(tmp_path_factory):
    """Search config name -> architecture JSON exported (untrained) from
    the model that config builds, made on first use."""
    folder = tmp_path_factory.mktemp('arch')
    files = {}

    def get(search_name):
        if search_name not in files:
            search = MODELS.build(model_cfg(load(search_name)))
            path = str(folder / f'{search_name}.json')
            save_architecture(searched_network(search), path)
            files[search_name] = path
        return files[search_name]

    return get


def check_schedulers(schedulers, optim_wrapper, where):
    for index, scheduler in enumerate(schedulers):
        built = PARAM_SCHEDULERS.build(
            scheduler,
            default_args=dict(optimizer=optim_wrapper, epoch_length=10))
        assert built.optimizer in (optim_wrapper, optim_wrapper.optimizer), \
            f'{where}[{index}] is not bound to its own optimiser'


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_parses_and_builds(path, arch_files):
    cfg = Config.fromfile(path)
    model = model_cfg(cfg)
    retrain = searched_backbone(model)
    if retrain is not None:
        # The retrain config names its search by the default work dir of
        # that search (work_dirs/<search config>/architecture.json).
        search_name = osp.basename(osp.dirname(retrain['arch_file']))
        assert osp.isfile(osp.join(SEARCH, search_name + '.py')), (
            f'{osp.basename(path)}: arch_file {retrain["arch_file"]!r} does '
            'not name a search config of configs/search')
        retrain['arch_file'] = arch_files(search_name)

    start = time.perf_counter()
    built = MODELS.build(model)
    build_s = time.perf_counter() - start
    assert LOOPS.get(cfg.train_cfg.get('type', 'EpochBasedTrainLoop'))
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(hook)

    if cfg.model.type == 'BilevelSearchModel':
        # The search loop pieces: the split, the DDP wrapper, the two
        # optimisers and one scheduler list per optimiser.
        assert cfg.train_cfg.type == 'BilevelEpochBasedTrainLoop'
        ratio = 0.5 if osp.basename(path).startswith('autola') else 0.8
        assert cfg.train_cfg.split_ratio == ratio
        assert cfg.model_wrapper_cfg.type == 'BilevelDistributedDataParallel'
        assert collect_arch_parameters(built)
        wrappers = build_optim_wrapper(built, cfg.optim_wrapper)
        assert isinstance(wrappers, OptimWrapperDict)
        assert set(wrappers.keys()) == {'weights', 'architecture'}
        assert isinstance(cfg.param_scheduler, dict)
        assert set(cfg.param_scheduler) == {'weights', 'architecture'}
        for key in ('weights', 'architecture'):
            check_schedulers(cfg.param_scheduler[key], wrappers[key],
                             f'param_scheduler.{key}')
        names = [h['type'] for h in cfg.custom_hooks]
        assert 'ArchitectureLoggerHook' in names
        assert 'ExportArchitectureHook' in names
    else:
        assert cfg.model.type in ('ReID', 'TransReIDModel', 'ImageClassifier')
        wrapper = build_optim_wrapper(built, cfg.optim_wrapper)
        check_schedulers(cfg.param_scheduler, wrapper, 'param_scheduler')
    if retrain is not None:
        assert not any(
            type(m).__name__ in ('ChannelWindowAttention', 'FBNetV2Supernet')
            for m in built.modules())
    # Heavy backbones (TransReID ViT-B, HRNet-W32, FBNetV2-XLarge) are only
    # built, never run; the build must stay cheap enough for CI.
    assert build_s < 60, f'{osp.basename(path)}: build took {build_s:.1f} s'
    if build_s > SLOW_BUILD_S:
        print(f'{osp.basename(path)}: build {build_s:.1f} s')


def test_tables_v_vi_have_one_config_per_row():
    names = {osp.basename(p)[:-3] for p in CONFIGS}
    rows = {**TABLE_V, **TABLE_VI}
    assert set(rows) == set(ROW_PARTS)
    missing = {row: name for row, name in rows.items() if name not in names}
    assert not missing
    # Each ablation config names its table row in its header comment.
    for row, name in rows.items():
        if name.startswith('ablation_'):
            with open(osp.join(SEARCH, name + '.py')) as f:
                header = f.readline()
            table = 'V' if row in TABLE_V else 'VI'
            assert f'table {table}' in header or 'tables V and VI' in header, \
                (name, header)


@pytest.mark.parametrize('row', sorted(ROW_PARTS))
def test_table_row_config_has_its_parts(row):
    """The attention and the IB loss of every row, read from the config
    (no build: cheap for the ViT-B and FBNetV2-Large rows)."""
    attention, ibb = ROW_PARTS[row]
    cfg = load({**TABLE_V, **TABLE_VI}[row])
    backbone = cfg.model.backbone
    if backbone.type == 'SearchedBackbone':
        backbone = backbone.backbone
    injected = {spec['cfg']['type'] for spec in backbone.get('attentions', [])}
    assert injected == ({attention} if attention else set()), row
    head = cfg.model.head
    assert head.type.endswith('WithIB') == ibb, row
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert ('IBVariationalHook' in hooks) == ibb, row
    if ibb:
        assert head.loss_ib.loss_weight == 0.1
        warmup = [
            h for h in cfg.custom_hooks if h['type'] == 'IBVariationalHook'
        ][0]
        assert warmup.get('warmup_ratio', 0.3) == 0.3
    if row.startswith('FBNetV2-Large'):
        # The vanilla FBNetV2-Large rows retrain the subnet of the plain
        # DNAS search (no DCS, no IBB), not that of DCS-DNAS.
        assert 'ablation_fbnetv2-large_search_market1501' in \
            cfg.model.backbone.arch_file


def test_plain_fbnetv2_large_search_has_no_dcs_and_no_ibb():
    cfg = load('ablation_fbnetv2-large_search_market1501')
    assert cfg.model.model.backbone.attentions == []
    assert cfg.model.model.backbone.backbone.arch == 'large'
    assert cfg.model.model.head.type == 'ReIDHead'
    assert cfg.model.cost_loss.type == 'DNASCostLoss'
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert 'IBVariationalHook' not in hooks
    assert 'GumbelTemperatureHook' in hooks
