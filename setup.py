"""Install mmattn: ``pip install .`` (a wheel) or ``pip install -e .``.

A built wheel (or one built from the sdist) carries what OpenMMLab's tools
look for in an installed package, under ``mmattn/.mim/``: ``configs/``,
``tools/`` and ``model-index.yml`` with the metafiles it imports. With them,
``_base_ = 'mmattn::reid/...'`` in another project's config,
``mmengine.hub.get_config('mmattn::...')`` / ``get_model(...)`` and
``mim train mmattn CONFIG`` / ``mim test`` work without a checkout.

mmengine 0.10.7 only resolves ``<scope>::`` config paths of the packages in
its fixed table ``mmengine.config.utils.MODULE2PACKAGE``. The wheel therefore
also installs ``mmattn-config-scope.pth`` and its module
``_mmattn_config_scope.py`` (a copy of ``mmattn/utils/config_scope.py``) at
the top of site-packages: at interpreter start it only puts an import hook in
place, which adds ``'mmattn'`` to that table once mmengine's config module is
imported (nothing else is imported at start-up).

An editable install (``pip install -e .``, what ``tools/misc/setup_env.sh``
does) uses the configs of the checkout by path; ``mmattn::`` paths need a
regular install, because mmengine looks for them next to the installed
distribution's metadata.
"""
import os
import os.path as osp
import shutil
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
# What goes into mmattn/.mim, as in mmpretrain and mmdet. model-index.yml
# and the configs/<family>/metafile.yml files it imports are read by
# mmengine.hub and mim.
MIM_FILES = ('configs', 'tools', 'model-index.yml')
SCOPE_MODULE = '_mmattn_config_scope'
SCOPE_PTH = 'mmattn-config-scope.pth'


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments dropped).

    Raises:
        FileNotFoundError: naming the file and the reason it must exist
            (an sdist built without MANIFEST.in's ``requirements/``).
    """
    path = osp.join(ROOT, 'requirements', f'{name}.txt')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} is missing: setup.py reads the requirements from '
            'requirements/*.txt (MANIFEST.in puts them into the sdist)')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def _ignore_build_leftovers(folder, names):
    return [n for n in names if n == '__pycache__' or n.endswith('.pyc')]


class BuildPyWithMim(build_py):
    """``build_py`` that also lays out ``mmattn/.mim`` and the scope hook.

    Files are copied (never linked) into the build folder only, so the
    source tree is not changed and a wheel built from the sdist is the same
    as one built from the checkout. Editable builds skip it: they use the
    checkout itself.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim_dir = osp.join(self.build_lib, 'mmattn', '.mim')
        missing = []
        for name in MIM_FILES:
            src = osp.join(ROOT, name)
            dst = osp.join(mim_dir, name)
            if osp.isdir(dst):
                shutil.rmtree(dst)
            elif osp.exists(dst):
                os.remove(dst)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=_ignore_build_leftovers)
            elif osp.isfile(src):
                os.makedirs(mim_dir, exist_ok=True)
                shutil.copyfile(src, dst)
            else:
                missing.append(name)
        if 'configs' in missing or 'tools' in missing:
            raise FileNotFoundError(
                f'{ROOT}: {missing} not found; the wheel ships configs/ '
                'and tools/ in mmattn/.mim (an sdist needs them in '
                'MANIFEST.in)')
        if missing:
            self.warn(f'{missing} not found: mmengine.hub.get_config and '
                      'mim find configs by path only, not by metafile')
        self.copy_file(
            osp.join(ROOT, 'mmattn', 'utils', 'config_scope.py'),
            osp.join(self.build_lib, f'{SCOPE_MODULE}.py'))
        with open(osp.join(self.build_lib, SCOPE_PTH), 'w') as f:
            f.write(f'import {SCOPE_MODULE}; {SCOPE_MODULE}.install()\n')


def readme():
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return f.read()


version = {}
with open(osp.join(ROOT, 'mmattn', 'version.py')) as f:
    exec(f.read(), version)

setup(
    name='mmattn',
    version=version['__version__'],
    description='Searched and structured attention methods (DA, DCS, CSA, '
    'StRA, AutoLA) as OpenMMLab components',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    keywords='computer vision, attention, person re-identification, '
    'neural architecture search',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    include_package_data=False,
    python_requires='>=3.9',
    install_requires=read_requirements('runtime'),
    extras_require=dict(
        tests=read_requirements('tests'),
        docs=read_requirements('docs'),
        optional=read_requirements('optional')),
    cmdclass=dict(build_py=BuildPyWithMim),
    zip_safe=False)
