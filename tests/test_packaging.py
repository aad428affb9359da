"""mmattn as an installed package: sdist, wheel, shipped configs, mim.

The sdist is built from the checkout, a wheel from the sdist (the path pip
takes for a source release) and one from the checkout; the sdist's wheel is
installed into a temporary virtualenv that sees the project venv's
site-packages (torch and the OpenMMLab stack are not installed again) but
imports mmattn from the wheel, never from the editable checkout. Every
check then runs in a fresh interpreter of that venv, from a folder outside
the checkout, as a user of the released package would.
"""
import glob
import os
import os.path as osp
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile

import pytest
from conftest import REPO_ROOT

PY_TAG = f'python{sys.version_info[0]}.{sys.version_info[1]}'
# openmim lives in a folder of its own (tools/misc/run_tests.sh installs it
# there without dependencies, see requirements/mim.txt).
MIM_DIR = osp.join(sys.prefix, 'openmim')
DEMO = 'reid/demo_dcs_mobilenetv2_synthetic.py'


def run(args, cwd, env=None, check=True):
    full_env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    full_env.update(OMP_NUM_THREADS='1', **(env or {}))
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=full_env)
    if check:
        assert result.returncode == 0, (
            f'{args} failed ({result.returncode}):\n'
            f'{result.stdout[-4000:]}\n{result.stderr[-4000:]}')
    return result


def wheel_names(path):
    with zipfile.ZipFile(path) as wheel:
        return sorted(wheel.namelist())


def checkout_files(*folders):
    """Files of the checkout (tracked or not ignored) under ``folders``."""
    result = subprocess.run([
        'git', 'ls-files', '--cached', '--others', '--exclude-standard', '--',
        *folders
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            check=True)
    return [
        name for name in result.stdout.split()
        if osp.isfile(osp.join(REPO_ROOT, name))
    ]


@pytest.fixture(scope='module')
def dists(tmp_path_factory):
    """The sdist of the checkout and the wheel pip builds from it."""
    out = tmp_path_factory.mktemp('dist')
    py = sys.executable
    run([
        py, '-m', 'build', '--sdist', '--no-isolation', '--outdir',
        str(out / 'sdist'), REPO_ROOT
    ],
        cwd=REPO_ROOT)
    sdist, = glob.glob(str(out / 'sdist' / 'mmattn-*.tar.gz'))
    pip = [
        py, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
        '--quiet'
    ]
    run(pip + ['-w', str(out / 'wheel'), sdist], cwd=str(out))
    wheel, = glob.glob(str(out / 'wheel' / 'mmattn-*.whl'))
    return dict(sdist=sdist, wheel=wheel)


def test_sdist_has_what_setup_py_reads(dists):
    with tarfile.open(dists['sdist']) as sdist:
        names = {n.split('/', 1)[1] for n in sdist.getnames() if '/' in n}
    for name in os.listdir(osp.join(REPO_ROOT, 'requirements')):
        assert f'requirements/{name}' in names
    for name in ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md',
                 'tools/train.py', 'tools/test.py', f'configs/{DEMO}',
                 'mmattn/utils/config_scope.py'):
        assert name in names, name
    if osp.exists(osp.join(REPO_ROOT, 'model-index.yml')):
        assert 'model-index.yml' in names
    for metafile in glob.glob(osp.join(REPO_ROOT, 'configs/*/metafile.yml')):
        assert osp.relpath(metafile, REPO_ROOT) in names
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]


def test_wheel_ships_configs_tools_and_scope_hook(dists):
    names = wheel_names(dists['wheel'])
    for name in (f'mmattn/.mim/configs/{DEMO}',
                 'mmattn/.mim/configs/_base_/default_runtime.py',
                 'mmattn/.mim/tools/train.py', 'mmattn/.mim/tools/test.py',
                 'mmattn/.mim/tools/misc/make_synthetic_reid.py',
                 'mmattn/utils/__init__.py', '_mmattn_config_scope.py',
                 'mmattn-config-scope.pth'):
        assert name in names, name
    if osp.exists(osp.join(REPO_ROOT, 'model-index.yml')):
        assert 'mmattn/.mim/model-index.yml' in names
    assert not [n for n in names if n.startswith('tests/')]
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]
    # Built from the sdist, the wheel still has every module, config and
    # tool of the checkout (nothing left out of MANIFEST.in).
    expected = [n for n in checkout_files('mmattn') if n.endswith('.py')]
    expected += [
        'mmattn/.mim/' + n for n in checkout_files('configs', 'tools')
        if n.endswith(('.py', '.sh', '.yml'))
    ]
    missing = sorted(set(expected) - set(names))
    assert not missing, missing


@pytest.fixture(scope='module')
def venv(dists, tmp_path_factory):
    """A venv with the wheel, seeing the project venv's other packages."""
    root = tmp_path_factory.mktemp('venv')
    env_dir = root / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip',
         str(env_dir)],
        cwd=str(root))
    site = env_dir / 'lib' / PY_TAG / 'site-packages'
    assert site.is_dir(), site
    main_site = sysconfig.get_paths()['purelib']
    # A path line, not a site dir: the project venv's own .pth files (the
    # editable install's finder among them) are not run in this venv.
    paths = [main_site] + ([MIM_DIR] if osp.isdir(MIM_DIR) else [])
    (site / '_project_venv.pth').write_text('\n'.join(paths) + '\n')
    run([
        sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
        '--no-warn-conflicts', '--target',
        str(site), dists['wheel']
    ],
        cwd=str(root))
    work = root / 'user_project'
    work.mkdir()
    return dict(
        python=str(env_dir / 'bin' / 'python'), site=str(site), work=str(work))


def venv_python(venv, code, check=True):
    return run(
        [venv['python'], '-c', textwrap.dedent(code)],
        cwd=venv['work'],
        check=check)


def test_the_wheel_not_the_checkout_is_imported(venv):
    out = venv_python(
        venv, """
        import sys
        print('mmengine' in sys.modules)  # the .pth hook imports nothing
        import mmattn
        print(mmattn.__file__)
        """).stdout.split()
    assert out[0] == 'False'
    assert out[1] == osp.join(venv['site'], 'mmattn', '__init__.py')
    assert not out[1].startswith(REPO_ROOT)


def test_mmattn_and_mmpretrain_bases_in_a_user_config(venv):
    """Another project's configs inherit mmattn:: and mmpretrain:: bases."""
    work = venv['work']
    with open(osp.join(work, 'from_mmattn.py'), 'w') as f:
        f.write(f"_base_ = 'mmattn::{DEMO}'\n"
                "model = dict(head=dict(num_classes=7))\n")
    with open(osp.join(work, 'from_mmattn_base.py'), 'w') as f:
        f.write("_base_ = ['mmattn::_base_/models/reid_resnet50.py']\n")
    with open(osp.join(work, 'from_mmpretrain.py'), 'w') as f:
        f.write("_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'\n")
    out = venv_python(
        venv, """
        from mmengine.config import Config
        a = Config.fromfile('from_mmattn.py')
        print(a.model.type, a.model.head.num_classes, a.default_scope)
        b = Config.fromfile('from_mmattn_base.py')
        print(b.model.type, b.model.backbone.type)
        c = Config.fromfile('from_mmpretrain.py')
        print(c.model.type, c.model.backbone.depth)
        """).stdout.split()
    assert out[:3] == ['ReID', '7', 'mmattn']
    assert out[3] == 'ReID'
    assert out[5:] == ['ImageClassifier', '18']


def test_hub_get_config_and_get_model(venv):
    out = venv_python(
        venv, f"""
        from mmengine.hub import get_config, get_model
        cfg = get_config('mmattn::{DEMO}')
        print(cfg.model.type)
        model = get_model('mmattn::{DEMO}')
        print(type(model).__name__, type(model).__module__)
        """).stdout.split()
    assert out[0] == 'ReID'
    assert out[1] == 'ReID' and out[2].startswith('mmattn.')


def test_get_config_through_the_metafiles(venv):
    """Each config named in a shipped metafile is found by get_config."""
    index = osp.join(venv['site'], 'mmattn', '.mim', 'model-index.yml')
    if not osp.exists(osp.join(REPO_ROOT, 'model-index.yml')):
        assert not osp.exists(index)
        pytest.skip('model-index.yml is not in this checkout yet')
    out = venv_python(
        venv, """
        import os.path as osp
        from mmengine.fileio import load
        from mmengine.hub import get_config
        import mmattn
        mim = osp.join(osp.dirname(mmattn.__file__), '.mim')
        count = 0
        for meta in load(osp.join(mim, 'model-index.yml'))['Import']:
            for model in load(osp.join(mim, meta))['Models']:
                path = model['Config']
                assert path.startswith('configs/'), (meta, path)
                assert osp.isfile(osp.join(mim, path)), (meta, path)
                cfg = get_config('mmattn::' + path.partition('/')[2])
                assert 'model' in cfg, path
                count += 1
        print(count)
        """).stdout.split()
    assert int(out[-1]) > 0


@pytest.fixture(scope='module')
def mim_data(venv):
    """A tiny synthetic Market-1501 set, made by the wheel's own tool."""
    root = osp.join(venv['work'], 'market1501')
    tool = osp.join(venv['site'], 'mmattn', '.mim', 'tools', 'misc',
                    'make_synthetic_reid.py')
    run([venv['python'], tool, root, '--seed', '0', '--preset', 'tiny'],
        cwd=venv['work'])
    return root


def tiny_options(data_root):
    """Shrink the demo config to the tiny synthetic set (8 train ids)."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    return [f'{loader}.dataset.data_root={data_root}' for loader in loaders
            ] + [f'{loader}.num_workers=0' for loader in loaders] + [
                f'{loader}.persistent_workers=False' for loader in loaders
            ] + [
                'model.head.num_classes=8', 'train_dataloader.batch_size=8',
                'train_dataloader.sampler.batch_size=8',
                'train_dataloader.sampler.num_instances=2',
                'val_dataloader.batch_size=7', 'test_dataloader.batch_size=7',
                'train_cfg.max_epochs=1', 'param_scheduler.1.T_max=1',
                'param_scheduler.1.begin=0', 'default_hooks.logger.interval=1'
            ]


def test_mim_train_and_test(venv, mim_data):
    """``mim train mmattn CONFIG`` / ``mim test`` with the shipped config."""
    assert osp.isdir(osp.join(MIM_DIR, 'mim')), (
        f'openmim is not in {MIM_DIR}: tools/misc/run_tests.sh installs it '
        f'(pip install --no-deps --target {MIM_DIR} -r requirements/mim.txt)')
    work_dir = osp.join(venv['work'], 'work_dirs', 'mim_demo')
    config = osp.basename(DEMO)  # not a path: mim finds it in the package
    result = run([
        venv['python'], '-m', 'mim', 'train', 'mmattn', config, '--work-dir',
        work_dir, '--no-validate', '--cfg-options', *tiny_options(mim_data)
    ],
                 cwd=venv['work'])
    shipped = osp.join(venv['site'], 'mmattn', '.mim', 'configs', DEMO)
    assert shipped in result.stdout, result.stdout[-2000:]
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(checkpoint), os.listdir(work_dir)
    result = run([
        venv['python'], '-m', 'mim', 'test', 'mmattn', config, '--checkpoint',
        checkpoint, '--work-dir', work_dir, '--cfg-options',
        *tiny_options(mim_data)
    ],
                 cwd=venv['work'])
    assert 'reid/mAP' in result.stdout + result.stderr
