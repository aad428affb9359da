"""Write docs/model_zoo.md from model-index.yml and the metafiles.

Run by docs/conf.py at every build (and by hand:
``python docs/make_model_zoo.py [--out PATH]``). It reads whatever metafiles
exist: none at all gives a page that says so; a metafile named in
model-index.yml but missing, or a model entry without ``Name`` / ``Config``,
is an error naming the file and the entry.
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict

import yaml

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)

HEADER = """# Model zoo

Generated from `model-index.yml` and the `configs/<family>/metafile.yml`
files it imports (`docs/make_model_zoo.py`, at every build of these pages).
Each row is one configuration with the paper's figures as the metafile
records them (**paper** columns) and, where they were measured, the numbers
of the configuration as built here. The same files let
`mmengine.hub.get_config` and `mim` find the configs of an installed mmattn
by name ([Get started](get_started.md)).
"""


def load_yaml(path, what):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what}: {path} does not exist')
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{what}: {path} should hold a YAML mapping, '
                         f'got {type(data).__name__}')
    return data


def fmt_number(value, unit=''):
    """2220000 -> '2.22M', 380000000 -> '0.38G' (FLOPs), text unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == 'flops':
        return f'{value / 1e9:.2f}G'
    if abs(value) >= 1e6:
        return f'{value / 1e6:.2f}M'
    if abs(value) >= 1e3:
        return f'{value / 1e3:.1f}K'
    return f'{value:g}'


def cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def fmt_results(results):
    parts = []
    for result in results or []:
        metrics = result.get('Metrics') or {}
        values = ', '.join(f'{k} {v}' for k, v in metrics.items())
        parts.append(f"{result.get('Dataset', '?')}: {values}")
    return '; '.join(parts)


def model_rows(models, metafile):
    rows = []
    for i, model in enumerate(models):
        for key in ('Name', 'Config'):
            if key not in model:
                raise ValueError(f'{metafile}: Models[{i}] has no {key!r}')
        meta = model.get('Metadata') or {}
        rows.append([
            f"`{model['Name']}`",
            f"`{model['Config']}`",
            meta.get('Paper Table', ''),
            fmt_number(meta.get('Paper Parameters', '')),
            fmt_number(meta.get('Paper FLOPs', ''), 'flops'),
            fmt_number(meta.get('Parameters', '')),
            fmt_number(meta.get('FLOPs', ''), 'flops'),
            fmt_results(model.get('Results')),
        ])
    return rows


def render(root=ROOT):
    """The page text for the metafiles under ``root``."""
    lines = [HEADER]
    index_path = osp.join(root, 'model-index.yml')
    if not osp.isfile(index_path):
        lines.append('No `model-index.yml` yet: no configuration has a '
                     'metafile.\n')
        return '\n'.join(lines)
    index = load_yaml(index_path, 'model index')
    collections = OrderedDict()
    models = OrderedDict()
    for rel in index.get('Import') or []:
        meta_path = osp.join(root, rel)
        data = load_yaml(meta_path, f'{index_path}: Import entry {rel!r}')
        for coll in data.get('Collections') or []:
            collections.setdefault(coll['Name'], coll)
        for row, model in zip(
                model_rows(data.get('Models') or [], meta_path),
                data.get('Models') or []):
            name = model.get('In Collection', 'Other')
            models.setdefault(name, []).append(row)
    total = sum(len(rows) for rows in models.values())
    lines.append(f'{total} configurations in {len(models)} collections.\n')
    head = ('| name | config | paper row | paper params | paper FLOPs '
            '| params | FLOPs | paper results |')
    for name, rows in models.items():
        coll = collections.get(name, {})
        lines.append(f'## {name}\n')
        paper = (coll.get('Paper') or {}).get('Title')
        if paper:
            lines.append(f'Paper: *{paper}*.')
        code = (coll.get('Code') or {}).get('URL')
        if code:
            lines.append(f'Authors\' code: <{code}>.')
        arch = (coll.get('Metadata') or {}).get('Architecture')
        if arch:
            lines.append('Architecture: ' + ', '.join(map(str, arch)) + '.')
        lines.append('')
        lines.append(head)
        lines.append('|' + '---|' * 8)
        for row in rows:
            lines.append('| ' + ' | '.join(cell(c) for c in row) + ' |')
        lines.append('')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out', default=osp.join(DOCS, 'model_zoo.md'), help='page to write')
    args = parser.parse_args(argv)
    text = render()
    # Rewritten only when it changes: Sphinx then rebuilds nothing else.
    if osp.isfile(args.out):
        with open(args.out) as f:
            if f.read() == text:
                return 0
    with open(args.out, 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
