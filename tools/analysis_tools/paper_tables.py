"""The seeds' parameter / FLOPs tables against the networks mmattn builds.

Every row of the five seed papers' tables that the library can build is a
model of a metafile (``configs/<family>/metafile.yml``, OpenMMLab's format,
all imported by ``model-index.yml``). Per row the metafile holds the config,
the paper's figures (``Metadata.Paper Parameters`` / ``Paper FLOPs``, the
table, the accuracy as ``Results``) and the library's measured figures
(``Metadata.Parameters`` / ``FLOPs``). This tool builds every row's config,
counts its parameters and FLOPs and prints paper vs library with the ratio.

Counting conventions (the seeds'): FLOPs are multiply-adds of one image of
``Metadata.Input Size`` through the test path (``mode='tensor'``), counted
by :func:`mmattn.analysis.count_complexity` (mmengine's analyzer with the
attention handles; one multiply-add = one FLOP). Parameters are those of
the whole model for classifiers and of the network without its training
head (the ID classifier of a Re-ID / face model) for embedding models, as
the Re-ID tables count the backbone: ``Metadata.Parameters Scope`` says
which.

Rows whose network comes out of a search are built without one: a
``SearchedBackbone`` config gets the architecture its search config
exports. ``Metadata.Build.FBNetV2`` picks the derived FBNetV2 subnet
(``largest`` / ``smallest`` option of every block, both counted: the
paper's searched network is a subnet in between, so such a row records the
range); DA windows are exported as initialised (every channel kept).

A row passes when both figures are within 3 % of the paper's (or the paper
gives none), otherwise it needs ``Metadata.Size Reason``: why, with the
arithmetic.

Examples::

    python tools/analysis_tools/paper_tables.py                 # Markdown
    python tools/analysis_tools/paper_tables.py --format json --out t.json
    python tools/analysis_tools/paper_tables.py --family classification \\
        --row 'hoga_*'
    python tools/analysis_tools/paper_tables.py --update-metafiles
    python tools/analysis_tools/paper_tables.py --readme docs/x.md
"""
import argparse
import copy
import fnmatch
import json
import os
import os.path as osp
import sys
import time
from collections import OrderedDict

import torch.nn as nn
import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
TOLERANCE = 0.03
README_START = '<!-- paper-tables:start -->'
README_END = '<!-- paper-tables:end -->'
METAFILE_HEADER = (
    '# Paper rows of the seeds (see docs/user_guides/paper_tables.md).\n'
    '# Paper figures, tables and reasons are written by hand; Parameters / '
    'FLOPs\n# (and their ranges) are measured: rewrite them with\n'
    '#   python tools/analysis_tools/paper_tables.py --update-metafiles\n')
SCOPES = ('model', 'without head')


# --------------------------------------------------------------------------
# Reading the metafiles
# --------------------------------------------------------------------------
def _load_yaml(path):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a YAML mapping, got '
                         f'{type(data).__name__}')
    return data


def metafile_paths(index_path=DEFAULT_INDEX):
    """The metafiles ``model-index.yml`` imports (absolute paths)."""
    index = _load_yaml(index_path)
    imports = index.get('Import')
    if not isinstance(imports, list) or not imports:
        raise ValueError(f'{index_path}: "Import" must be a non-empty list of '
                         'metafile paths')
    root = osp.dirname(osp.abspath(index_path))
    return [osp.join(root, path) for path in imports]


def _number(value, where):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{where}: expected a number, got {value!r}')
    return value


def _shape(value, where):
    if (not isinstance(value, list) or len(value) not in (2, 3)
            or not all(isinstance(v, int) and v > 0 for v in value)):
        raise ValueError(f'{where}: "Input Size" must be [H, W] or [C, H, W] '
                         f'of positive integers, got {value!r}')
    return list(value)


def parse_metafile(path, root=REPO_ROOT):
    """The paper rows of one metafile.

    Returns:
        list[dict]: one dict per model: ``name``, ``family`` (the config
        folder), ``collection``, ``config`` (repo-relative), ``metafile``,
        ``input_size`` ([C, H, W]), ``scope``, ``cfg_options``, ``build``,
        ``paper_params`` / ``paper_flops`` (absolute numbers or None),
        ``params`` / ``flops`` (the recorded library figures), ranges,
        ``table``, ``reason``, ``results``.
    """
    data = _load_yaml(path)
    models = data.get('Models')
    if not isinstance(models, list) or not models:
        raise ValueError(f'{path}: "Models" must be a non-empty list')
    collections = {c.get('Name') for c in data.get('Collections') or []}
    family = osp.basename(osp.dirname(path))
    rows = []
    for i, model in enumerate(models):
        where = f'{path}: Models[{i}]'
        name = model.get('Name')
        if not name:
            raise ValueError(f'{where}: missing "Name"')
        where = f'{path}: model {name!r}'
        if model.get('In Collection') not in collections:
            raise ValueError(f'{where}: "In Collection" '
                             f'{model.get("In Collection")!r} is not one of '
                             f'the Collections {sorted(collections)}')
        config = model.get('Config')
        if not config:
            raise ValueError(f'{where}: missing "Config"')
        meta = model.get('Metadata') or {}
        scope = meta.get('Parameters Scope', 'model')
        if scope not in SCOPES:
            raise ValueError(f'{where}: "Parameters Scope" must be one of '
                             f'{SCOPES}, got {scope!r}')
        build = meta.get('Build') or {}
        fbnet = build.get('FBNetV2')
        if fbnet not in (None, 'range'):
            raise ValueError(f'{where}: "Build.FBNetV2" must be "range", got '
                             f'{fbnet!r}')
        shape = _shape(meta.get('Input Size'), where)
        if len(shape) == 2:
            shape = [3] + shape
        rows.append(
            dict(
                name=name,
                family=family,
                collection=model['In Collection'],
                config=config,
                metafile=path,
                input_size=shape,
                scope=scope,
                cfg_options=meta.get('Cfg Options'),
                build=build,
                paper_params=_number(meta.get('Paper Parameters'), where),
                paper_flops=_number(meta.get('Paper FLOPs'), where),
                params=_number(meta.get('Parameters'), where),
                flops=_number(meta.get('FLOPs'), where),
                params_range=meta.get('Parameters Range'),
                flops_range=meta.get('FLOPs Range'),
                table=meta.get('Paper Table', ''),
                reason=meta.get('Size Reason'),
                results=model.get('Results') or [],
            ))
    return rows


def load_rows(index_path=DEFAULT_INDEX, families=None, patterns=None):
    """Every row of every imported metafile, filtered.

    Args:
        families (list[str], optional): Config folders to keep
            (``classification``, ``reid``, ...).
        patterns (list[str], optional): ``fnmatch`` patterns on the row
            name; a row is kept if any matches.
    """
    rows = []
    for path in metafile_paths(index_path):
        rows.extend(parse_metafile(path))
    names = [row['name'] for row in rows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f'duplicate model names across the metafiles: '
                         f'{duplicates}')
    if families:
        known = {row['family'] for row in rows}
        unknown = sorted(set(families) - known)
        if unknown:
            raise ValueError(f'--family {unknown}: no such family (known: '
                             f'{sorted(known)})')
        rows = [row for row in rows if row['family'] in families]
    if patterns:
        rows = [
            row for row in rows if any(
                fnmatch.fnmatchcase(row['name'], p) for p in patterns)
        ]
        if not rows:
            raise ValueError(f'--row {patterns}: no row matches')
    return rows


# --------------------------------------------------------------------------
# Building and counting
# --------------------------------------------------------------------------
def _register():
    from mmengine.registry import init_default_scope

    from mmattn.registry import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmattn')


def _set_fbnetv2_choice(model, which):
    """Make the argmax of every FBNetV2 supernet block its largest /
    smallest width and expansion option."""
    from mmattn.models.backbones.fbnetv2 import SearchableInvertedResidual
    pick = max if which == 'largest' else min
    found = False
    for module in model.modules():
        if not isinstance(module, SearchableInvertedResidual):
            continue
        found = True
        for logits, options in ((module.channel_logits,
                                 module.channel_options),
                                (module.expand_logits, module.expand_options)):
            if logits is None:
                continue
            best = options.index(pick(options))
            with_choice = logits.detach().clone().fill_(0)
            with_choice[best] = 1.0
            logits.data.copy_(with_choice)
    return found


def _searched_arch(model_cfg, fbnetv2):
    """The architecture the search config of a ``SearchedBackbone`` row
    exports without searching (see module doc)."""
    from mmattn.models.search import export_architecture
    from mmattn.registry import MODELS
    searched = copy.deepcopy(model_cfg)
    searched['backbone'] = copy.deepcopy(model_cfg['backbone']['backbone'])
    _strip_init(searched)
    model = MODELS.build(searched)
    if fbnetv2 is not None and not _set_fbnetv2_choice(model, fbnetv2):
        raise ValueError('Build.FBNetV2 is set but the search config has no '
                         'FBNetV2 supernet')
    return export_architecture(model)


def _strip_init(node):
    """Drop ``init_cfg`` Pretrained entries: counting needs no weights
    (and the checkpoints are not in the repository)."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            _strip_init(value)
    elif isinstance(node, list):
        for value in node:
            _strip_init(value)


def build_model(row, fbnetv2=None):
    """Build the row's model on the CPU in eval mode.

    Args:
        row (dict): A row of :func:`load_rows`.
        fbnetv2 (str, optional): ``'largest'`` / ``'smallest'``: the FBNetV2
            subnet to derive for a ``SearchedBackbone``.
    """
    from mmengine.config import Config

    from mmattn.registry import MODELS
    _register()
    path = osp.join(REPO_ROOT, row['config'])
    if not osp.isfile(path):
        raise FileNotFoundError(f'{row["metafile"]}: model {row["name"]!r}: '
                                f'Config {row["config"]!r} does not exist')
    cfg = Config.fromfile(path)
    if row['cfg_options']:
        cfg.merge_from_dict(row['cfg_options'])
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') \
        else copy.deepcopy(cfg.model)
    if model_cfg.get('type') == 'BilevelSearchModel':
        model_cfg = model_cfg['model']
    _strip_init(model_cfg)
    backbone = model_cfg.get('backbone') or {}
    if backbone.get('type') == 'SearchedBackbone' and 'arch' not in backbone:
        backbone['arch'] = _searched_arch(model_cfg, fbnetv2)
        backbone.pop('arch_file', None)
    model = MODELS.build(model_cfg)
    model.eval()
    return model


def count_params(model, scope):
    """Parameters of the model (``'model'``) or of everything but its
    ``head`` (``'without head'``)."""
    total = sum(p.numel() for p in model.parameters())
    if scope == 'without head' and getattr(model, 'head', None) is not None:
        total -= sum(p.numel() for p in model.head.parameters())
    return int(total)


class _OnePatch(nn.Module):
    """Feeds a (B, C, H, W) batch to a descriptor model as (B, 1, C, H, W)
    patch stacks (its test path takes stacks)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x.unsqueeze(1), mode='tensor')


def count_flops(model, input_size):
    """FLOPs of one ``input_size`` (C, H, W) image through the test path,
    with the package's counter (attention included). Returns
    ``(flops, uncounted_ops)``."""
    from mmattn.models.descriptors import PatchDescriptor
    if isinstance(model, PatchDescriptor):
        model = _OnePatch(model)
    try:
        from mmattn.analysis import count_complexity
    except ImportError:  # before mmattn.analysis existed
        count_complexity = None
    if count_complexity is not None:
        result = count_complexity(model, input_shape=tuple(input_size))
        return int(result['flops']), dict(result.get('uncounted_ops') or {})
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    import torch
    from get_flops import TensorPath
    from mmengine.analysis import FlopAnalyzer
    inputs = torch.zeros(1, *input_size)
    with torch.no_grad():
        analyzer = FlopAnalyzer(TensorPath(model), (inputs, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return int(analyzer.total()), dict(analyzer.unsupported_ops())


class Counter:
    """Builds each distinct network once and counts its FLOPs once per input
    size (many rows share a config: the same network in several tables)."""

    def __init__(self, with_flops=True):
        self.with_flops = with_flops
        self._models = OrderedDict()
        self._flops = {}

    @staticmethod
    def _key(row, fbnetv2):
        return (row['config'], json.dumps(row['cfg_options'],
                                          sort_keys=True), fbnetv2)

    def model(self, row, fbnetv2=None):
        key = self._key(row, fbnetv2)
        if key not in self._models:
            self._models[key] = build_model(row, fbnetv2)
        return self._models[key]

    def flops(self, row, fbnetv2=None):
        key = self._key(row, fbnetv2) + (tuple(row['input_size']), )
        if key not in self._flops:
            self._flops[key] = count_flops(
                self.model(row, fbnetv2), row['input_size'])
        return self._flops[key]

    def measure(self, row):
        """The row's measured figures: ``params``, ``flops``,
        ``uncounted_ops`` and, for an FBNetV2 range row, ``params_range`` /
        ``flops_range`` ([smallest, largest]); ``params`` / ``flops`` are
        then the largest subnet's."""
        choices = ['largest', 'smallest'] if row['build'].get('FBNetV2') \
            else [None]
        params, flops, uncounted = [], [], {}
        for choice in choices:
            params.append(count_params(self.model(row, choice), row['scope']))
            if self.with_flops:
                value, ops = self.flops(row, choice)
                flops.append(value)
                uncounted.update(ops)
        measured = dict(
            params=params[0],
            flops=flops[0] if flops else None,
            uncounted_ops=uncounted)
        if len(choices) == 2:
            measured['params_range'] = sorted(params)
            measured['flops_range'] = sorted(flops) if flops else None
        return measured


# --------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------
def ratio(measured, paper):
    if measured is None or not paper:
        return None
    return measured / paper


def in_range(value, bounds):
    return (value is not None and bounds is not None
            and bounds[0] <= value <= bounds[1])


def compare(row, measured=None):
    """Paper vs library of one row.

    Args:
        row (dict): A row of :func:`load_rows`.
        measured (dict, optional): :meth:`Counter.measure`; None compares the
            figures recorded in the metafile.

    Returns:
        dict: the row's figures, ``params_ratio`` / ``flops_ratio``
        (library / paper), ``in_range`` (FBNetV2 range rows: both paper
        figures inside the range, which replaces the 3 % check) and
        ``status``: ``ok`` (within 3 % or inside the range, or the paper
        gives no figure), ``explained`` (off, with a Size Reason), ``off``
        (off, no reason) or ``unmeasured`` (no library figure yet).
    """
    got = dict(
        params=row['params'],
        flops=row['flops'],
        params_range=row['params_range'],
        flops_range=row['flops_range'],
        uncounted_ops={})
    if measured is not None:
        got.update(measured)
    out = dict(
        name=row['name'],
        family=row['family'],
        collection=row['collection'],
        config=row['config'],
        table=row['table'],
        input_size=row['input_size'],
        scope=row['scope'],
        paper_params=row['paper_params'],
        paper_flops=row['paper_flops'],
        params=got['params'],
        flops=got['flops'],
        params_range=got.get('params_range'),
        flops_range=got.get('flops_range'),
        uncounted_ops=got.get('uncounted_ops') or {},
        reason=row['reason'],
        params_ratio=ratio(got['params'], row['paper_params']),
        flops_ratio=ratio(got['flops'], row['paper_flops']))
    off = [
        key for key in ('params_ratio', 'flops_ratio')
        if out[key] is not None and abs(out[key] - 1) > TOLERANCE
    ]
    missing = [
        key for key, paper in (('params', row['paper_params']),
                               ('flops', row['paper_flops']))
        if paper and got[key] is None
    ]
    if row['build'].get('FBNetV2'):
        # A searched subnet: the check is that the paper's network is one
        # the supernet can derive (between its smallest and largest).
        off = [
            f'{key}_range' for key in ('params', 'flops')
            if row[f'paper_{key}'] and out[f'{key}_range'] is not None
            and not in_range(row[f'paper_{key}'], out[f'{key}_range'])
        ]
        out['in_range'] = not off
    out['off'] = off
    if missing:
        out['status'] = 'unmeasured'
    elif not off:
        out['status'] = 'ok'
    else:
        out['status'] = 'explained' if row['reason'] else 'off'
    return out


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def _millions(value):
    return '-' if value is None else f'{value / 1e6:.3f}'


def _giga(value):
    return '-' if value is None else f'{value / 1e9:.3f}'


def _ratio(value):
    return '-' if value is None else f'{value:.3f}'


def _metrics(results):
    parts = []
    for result in results:
        metrics = ', '.join(f'{k} {v}'
                            for k, v in (result.get('Metrics') or {}).items())
        if metrics:
            parts.append(f'{result.get("Dataset", "")}: {metrics}')
    return '; '.join(parts) or '-'


def _range(bounds, fmt):
    return '' if not bounds else f' [{fmt(bounds[0])}, {fmt(bounds[1])}]'


def to_markdown(compared, rows=None):
    """One Markdown table of the compared rows (``rows``, the same order,
    adds the accuracy column)."""
    head = ('| row | paper table | config | input | params paper (M) | '
            'params mmattn (M) | ratio | FLOPs paper (G) | FLOPs mmattn (G) '
            '| ratio | status |')
    lines = [head, '|' + '---|' * 11]
    for item in compared:
        lines.append('| ' + ' | '.join([
            item['name'],
            item['table'],
            f'`{item["config"]}`',
            'x'.join(str(v) for v in item['input_size'][1:]),
            _millions(item['paper_params']),
            _millions(item['params']) +
            _range(item['params_range'], _millions),
            _ratio(item['params_ratio']),
            _giga(item['paper_flops']),
            _giga(item['flops']) + _range(item['flops_range'], _giga),
            _ratio(item['flops_ratio']),
            item['status'],
        ]) + ' |')
    return '\n'.join(lines) + '\n'


def summary(compared):
    counts = OrderedDict(
        (k, 0) for k in ('ok', 'explained', 'off', 'unmeasured', 'error'))
    for item in compared:
        counts[item['status']] += 1
    return counts


def update_metafiles(rows, compared):
    """Write the measured Parameters / FLOPs (and ranges) of the compared
    rows back into their metafiles (the other keys are kept)."""
    by_file = OrderedDict()
    for row, item in zip(rows, compared):
        by_file.setdefault(row['metafile'], {})[row['name']] = item
    for path, items in by_file.items():
        data = _load_yaml(path)
        for model in data['Models']:
            item = items.get(model['Name'])
            if item is None or item['status'] == 'error':
                continue
            meta = model.setdefault('Metadata', {})
            for key, value in (('Parameters', item['params']), ('FLOPs',
                                                                item['flops']),
                               ('Parameters Range', item['params_range']),
                               ('FLOPs Range', item['flops_range'])):
                if value is not None:
                    meta[key] = value
        write_metafile(path, data)
    return list(by_file)


def write_metafile(path, data):
    text = yaml.safe_dump(
        data,
        sort_keys=False,
        allow_unicode=True,
        width=78,
        default_flow_style=None)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(METAFILE_HEADER + text)
    os.replace(tmp, path)


def readme_section(index_path=DEFAULT_INDEX):
    """The README section (between the markers) from the metafiles' recorded
    figures: one table per collection, then the reasons."""
    rows = load_rows(index_path)
    compared = [compare(row) for row in rows]
    counts = summary(compared)
    lines = [
        README_START,
        '',
        f'{len(rows)} rows of the seeds\' tables, built from the configs and '
        'counted by `tools/analysis_tools/paper_tables.py` (generated from '
        'the metafiles; ' + ', '.join(f'{v} {k}'
                                      for k, v in counts.items() if v) +
        '). Params in M, FLOPs in G; '
        'ratio = mmattn / paper; rows off by more than 3 % carry a reason '
        'in their metafile.',
        '',
    ]
    collections = OrderedDict()
    for row, item in zip(rows, compared):
        collections.setdefault(row['collection'], []).append((row, item))
    for name, members in collections.items():
        lines.append(f'**{name}**')
        lines.append('')
        lines.append('| paper row | config | input | params paper / mmattn '
                     '(ratio) | FLOPs paper / mmattn (ratio) | status | paper '
                     'accuracy |')
        lines.append('|---|---|---|---|---|---|---|')
        for row, item in members:
            lines.append('| ' + ' | '.join([
                row['table'],
                f'`{row["config"]}`',
                'x'.join(str(v) for v in row['input_size'][1:]),
                f'{_millions(item["paper_params"])} / '
                f'{_millions(item["params"])}'
                f'{_range(item["params_range"], _millions)} '
                f'({_ratio(item["params_ratio"])})',
                f'{_giga(item["paper_flops"])} / {_giga(item["flops"])}'
                f'{_range(item["flops_range"], _giga)} '
                f'({_ratio(item["flops_ratio"])})',
                item['status'],
                _metrics(row['results']),
            ]) + ' |')
        lines.append('')
    lines.append(README_END)
    return '\n'.join(lines)


def write_readme(path, index_path=DEFAULT_INDEX):
    """Replace the text between the markers of ``path`` by
    :func:`readme_section`."""
    with open(path) as f:
        text = f.read()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f'{path}: needs the markers {README_START} and '
                         f'{README_END} (in this order) around the section '
                         'to generate')
    new = text[:start] + readme_section(index_path) + \
        text[end + len(README_END):]
    with open(path, 'w') as f:
        f.write(new)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build every paper row of the metafiles, count its '
        'parameters and FLOPs and compare them with the paper')
    parser.add_argument(
        '--index',
        default=DEFAULT_INDEX,
        help='model index (default: model-index.yml)')
    parser.add_argument(
        '--family',
        nargs='+',
        help='only these config families (folders of '
        'configs/: classification, reid, search, ...)')
    parser.add_argument(
        '--row',
        nargs='+',
        help='only rows whose name matches one of these '
        'fnmatch patterns, e.g. "hoga_*"')
    parser.add_argument('--format', choices=('md', 'json'), default='md')
    parser.add_argument(
        '--out', help='write the table here instead of '
        'stdout')
    parser.add_argument(
        '--no-flops',
        action='store_true',
        help='count parameters only (FLOPs are read from '
        'the metafile)')
    parser.add_argument(
        '--recorded',
        action='store_true',
        help='build nothing: compare the figures recorded '
        'in the metafiles')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='worker processes (rows of one config share a '
        'worker); 2 on a 2-core machine')
    parser.add_argument(
        '--update-metafiles',
        action='store_true',
        help='write the measured figures into the metafiles')
    parser.add_argument(
        '--readme',
        metavar='FILE',
        help='regenerate the section of FILE between '
        f'{README_START} and {README_END} from the metafiles '
        '(after --update-metafiles when both are given)')
    args = parser.parse_args(argv)
    if args.recorded and args.update_metafiles:
        parser.error('--recorded measures nothing to write back')
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.no_flops and args.update_metafiles and not args.recorded:
        print(
            'note: --no-flops --update-metafiles writes parameters only',
            file=sys.stderr)
    return args


def _measure_group(args):
    """Worker: measure rows that share one network (see :func:`run`)."""
    rows, with_flops = args
    import torch
    torch.set_num_threads(1)
    counter = Counter(with_flops=with_flops)
    out = []
    for row in rows:
        start = time.time()
        try:
            measured = counter.measure(row)
        except Exception as error:  # reported per row, the table goes on
            measured = dict(error=f'{type(error).__name__}: {error}')
        out.append((measured, time.time() - start))
    return out


def run(rows, with_flops=True, recorded=False, log=None, jobs=1):
    """Compare every row (measuring unless ``recorded``).

    Args:
        jobs (int): Worker processes; rows sharing a config go to the same
            worker, so each network is still built once.
    """
    if recorded:
        return [compare(row) for row in rows]
    groups = OrderedDict()
    for i, row in enumerate(rows):
        groups.setdefault(row['config'], []).append(i)
    tasks = [([rows[i] for i in members], with_flops)
             for members in groups.values()]
    if jobs > 1:
        import multiprocessing
        pool = multiprocessing.get_context('fork').Pool(jobs)
        results = pool.imap(_measure_group, tasks)
    else:
        pool, results = None, map(_measure_group, tasks)
    measured = [None] * len(rows)
    done = 0
    try:
        for members, group in zip(groups.values(), results):
            for i, (value, seconds) in zip(members, group):
                measured[i] = value
                done += 1
                if log is not None:
                    log(f'[{done}/{len(rows)}] {rows[i]["name"]} '
                        f'({seconds:.1f}s)')
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    compared = []
    for row, value in zip(rows, measured):
        if 'error' in value:
            item = compare(row)
            item.update(status='error', error=value['error'])
            compared.append(item)
            continue
        if not with_flops:
            value['flops'] = row['flops']
            value['flops_range'] = row['flops_range']
        compared.append(compare(row, value))
    return compared


def main(argv=None):
    args = parse_args(argv)
    rows = load_rows(args.index, args.family, args.row)
    compared = run(
        rows,
        with_flops=not args.no_flops,
        recorded=args.recorded,
        jobs=args.jobs,
        log=lambda msg: print(msg, file=sys.stderr))
    if args.format == 'json':
        text = json.dumps(
            dict(rows=compared, summary=summary(compared)), indent=1) + '\n'
    else:
        counts = summary(compared)
        text = to_markdown(compared) + '\n' + ', '.join(
            f'{v} {k}' for k, v in counts.items()) + '\n'
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.update_metafiles:
        for path in update_metafiles(rows, compared):
            print(f'updated {osp.relpath(path, REPO_ROOT)}', file=sys.stderr)
    if args.readme:
        write_readme(args.readme, args.index)
        print(
            f'regenerated the paper-tables section of {args.readme}',
            file=sys.stderr)
    for item in compared:
        if item['status'] == 'error':
            print(
                f'error: {item["name"]} ({item["config"]}): '
                f'{item["error"]}',
                file=sys.stderr)
    return compared


if __name__ == '__main__':
    failed = [c for c in main() if c['status'] in ('error', 'off')]
    sys.exit(1 if failed else 0)
