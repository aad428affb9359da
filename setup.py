"""Install mmattn: ``pip install -e .`` (core) or ``pip install -e .[tests]``."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments dropped)."""
    path = osp.join(osp.dirname(__file__), 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


version = {}
with open(osp.join(osp.dirname(__file__), 'mmattn', 'version.py')) as f:
    exec(f.read(), version)

setup(
    name='mmattn',
    version=version['__version__'],
    description='Searched and structured attention methods (DA, DCS, CSA, '
    'StRA, AutoLA) as OpenMMLab components',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime'),
    extras_require=dict(
        tests=read_requirements('tests'),
        optional=read_requirements('optional')),
    zip_safe=False)
