"""Let mmengine resolve ``mmattn::`` config paths.

mmengine 0.10.7 resolves ``_base_ = '<scope>::<path>'``,
``mmengine.hub.get_config`` and ``get_model`` only for the packages of its
fixed table ``mmengine.config.utils.MODULE2PACKAGE`` and refuses any other
scope ("mmengine does not support to load mmattn config"). A config of
another project is parsed before its ``custom_imports`` are imported, so
importing mmattn first is not enough there.

The installed wheel runs :func:`install` at interpreter start (from
``mmattn-config-scope.pth`` in site-packages, with this file copied next to
it as ``_mmattn_config_scope.py``). It imports nothing: it puts a finder at
the front of ``sys.meta_path`` that waits for ``mmengine.config.utils`` and,
right after that module has run, adds ``'mmattn'`` to the table. This file
must therefore not import mmattn or mmengine at module level.
"""
import importlib.abc
import importlib.util
import sys

SCOPE = 'mmattn'
TARGET = 'mmengine.config.utils'


def register_config_scope(module=None):
    """Add ``mmattn`` to mmengine's table of config scopes.

    Args:
        module (module, optional): ``mmengine.config.utils``; imported when
            not given.
    """
    if module is None:
        import mmengine.config.utils as module
    module.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


class _RegisterAfterExec(importlib.abc.Loader):
    """Runs the real loader of ``mmengine.config.utils``, then registers."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        register_config_scope(module)

    def __getattr__(self, name):
        # get_code, get_source, is_package, ... of the wrapped loader.
        return getattr(self.loader, name)


class ConfigScopeFinder(importlib.abc.MetaPathFinder):
    """Meta path finder that only wraps the loader of ``TARGET``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        # Find the real spec with the other finders (this one steps aside;
        # the parent package is already being imported at this point).
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _RegisterAfterExec(spec.loader)
        return spec


def install():
    """Register now if mmengine's config module is loaded, else on import.

    Never raises: a failure here must not stop the interpreter from
    starting (the ``.pth`` file runs it for every Python of the
    environment). It says what failed on stderr instead; ``mmattn::`` paths
    are then refused by mmengine with its own message.
    """
    try:
        if TARGET in sys.modules:
            register_config_scope(sys.modules[TARGET])
        elif not any(isinstance(f, ConfigScopeFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, ConfigScopeFinder())
    except Exception as error:  # start-up must go on, see the docstring
        sys.stderr.write(f'mmattn-config-scope.pth: {error!r}; mmattn:: '
                         'config paths will not resolve\n')
