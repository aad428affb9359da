"""Sphinx configuration of the mmattn documentation site.

Build it (warnings are errors, as in CI):
    bash tools/misc/build_docs.sh
Pages are Markdown (myst-parser) in OpenMMLab's layout. The model zoo page
(docs/make_model_zoo.py, from model-index.yml and the metafiles) and the API
reference (docs/make_api.py, autodoc of every public name) are generated at
every build.
"""
import os
import os.path as osp
import subprocess
import sys

DOCS = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(DOCS)
sys.path.insert(0, ROOT)

# Generated pages: the model zoo from whatever metafiles exist right now,
# the API reference from the packages' __all__.
for script in ('make_model_zoo.py', 'make_api.py'):
    subprocess.run([sys.executable, osp.join(DOCS, script)], check=True)

import mmattn  # noqa: E402

project = 'mmattn'
copyright = '2026, mmattn authors'
author = 'mmattn authors'
version = mmattn.__version__
release = mmattn.__version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'sphinx_copybutton',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
# images/ holds tool outputs (pictures and their statistics as .md tables).
exclude_patterns = ['_build', 'images', 'Thumbs.db', '.DS_Store']
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 3
# Code blocks without a language are shown as plain text.
highlight_language = 'text'

# Google-style docstrings ("Args:", "Returns:") as in OpenMMLab projects.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# 'Attributes:' sections as fields: autodoc documents the attributes of
# NamedTuples and dataclasses itself (no duplicate descriptions).
napoleon_use_ivar = True
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = dict(members=True, show_inheritance=True)

html_theme = 'sphinx_rtd_theme'
html_static_path = []
html_title = f'mmattn {version}'
os.environ.setdefault('MPLBACKEND', 'Agg')
