"""tools/train.py / test.py / dist_*.sh as a user runs them: exact resume
with the shipped loader defaults, mistakes that must stop before the first
step, shortened trainings, and a two-node rehearsal on one machine."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO_ROOT
from test_train_test import CONFIG, metrics_in_log, run, tiny_options

#: The shipped demo config's loader: two persistent workers.
PERSISTENT = [
    'train_dataloader.num_workers=2',
    'train_dataloader.persistent_workers=True'
]


def train(args, work_dir, options, check=True, env=None):
    return run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), *args, '--cfg-options', *options
    ],
               check=check,
               env=env)


def weights(path):
    return torch.load(path, weights_only=True)['state_dict']


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]


def log_of(result):
    return result.stdout + result.stderr


def test_resume_is_exact_with_two_persistent_workers(market_root, tmp_path):
    options = [*tiny_options(market_root, epochs=2), *PERSISTENT]
    train(['--no-validate'], tmp_path / 'a', options)
    # The same training, killed (with its workers) once the epoch-1
    # checkpoint is on disk ...
    work_dir = tmp_path / 'b'
    proc = subprocess.Popen([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--no-validate', '--cfg-options', *options
    ],
                            cwd=REPO_ROOT,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not (work_dir / 'epoch_1.pth').exists() and proc.poll() is None:
        assert time.time() < deadline, 'no epoch-1 checkpoint in 300 s'
        time.sleep(0.2)
    time.sleep(0.5)  # the checkpoint is renamed into place when complete
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (work_dir / 'epoch_2.pth').exists()
    # ... and resumed by new workers, ends with the same weights, bit for
    # bit.
    train(['--no-validate', '--resume'], work_dir, options)
    assert_same_weights(tmp_path / 'a' / 'epoch_2.pth',
                        work_dir / 'epoch_2.pth')


def data_options(data_root, loaders=True):
    """tiny_options without its schedule and training length (and without
    its loader settings when ``loaders`` is False): what a user keeps of
    the demo config."""
    dropped = ('param_scheduler', 'train_cfg.max_epochs')
    if not loaders:
        dropped += ('val_dataloader.num_workers',
                    'test_dataloader.num_workers', 'val_dataloader.persistent',
                    'test_dataloader.persistent')
    return [o for o in tiny_options(data_root) if not o.startswith(dropped)]


@pytest.fixture(scope='module')
def one_epoch(market_root, tmp_path_factory):
    """The demo config with its own schedule, shortened to one epoch, with
    a bare --resume in an empty work dir."""
    work_dir = tmp_path_factory.mktemp('one_epoch')
    result = train(['--resume'], work_dir,
                   [*data_options(market_root), 'train_cfg.max_epochs=1'])
    return work_dir, log_of(result)


def test_shortened_training_leaves_out_later_schedulers(one_epoch):
    work_dir, log = one_epoch
    assert osp.isfile(work_dir / 'epoch_1.pth')
    assert 'param_scheduler[1] (CosineAnnealingLR) starts at 1' in log
    assert 'train_cfg.max_epochs=1' in log
    assert 'end should be larger than begin' not in log


def test_resume_with_nothing_to_resume_says_so(one_epoch):
    work_dir, log = one_epoch
    assert f"--resume: work dir '{work_dir}' holds no checkpoint" in log
    assert 'training starts from scratch' in log
    assert 'resumed from the latest checkpoint None' not in log


def test_resume_of_a_missing_file_is_refused(market_root, tmp_path):
    result = train(['--resume', str(tmp_path / 'nothing.pth')],
                   tmp_path / 'w',
                   data_options(market_root),
                   check=False)
    assert result.returncode != 0
    assert 'nothing.pth' in result.stderr and 'no such checkpoint' in \
        result.stderr


def test_resuming_another_model_fails_before_the_first_step(
        one_epoch, market_root, tmp_path):
    work_dir, _ = one_epoch
    result = train(['--resume', str(work_dir / 'epoch_1.pth')],
                   tmp_path / 'other', [
                       *data_options(market_root), 'train_cfg.max_epochs=2',
                       'model.head.num_classes=9'
                   ],
                   check=False)
    log = log_of(result)
    assert result.returncode != 0
    assert 'cannot resume from' in log and 'epoch_1.pth' in log
    assert 'head.classifier.weight (8, 1280) in the checkpoint, (9, 1280) ' \
        'in the model' in log
    assert 'Epoch(train)' not in log


def test_config_mistakes_stop_before_training(market_root, tmp_path):
    typo_cfg = tmp_path / 'typo_cfg.py'
    typo_cfg.write_text(f"_base_ = ['{CONFIG}']\ntrian_cfg = dict()\n")
    cases = [
        ([sys.executable, 'tools/train.py',
          str(typo_cfg)], [
              "typo_cfg.py: top-level key 'trian_cfg'",
              "did you mean 'train_cfg'"
          ]),
        ([
            sys.executable, 'tools/train.py', CONFIG, '--cfg-options',
            'env_cfg.cudnn_benchmrk=False'
        ], ["env_cfg has no key 'cudnn_benchmrk'"]),
        ([
            sys.executable, 'tools/train.py', CONFIG, '--cfg-options',
            'default_hooks.checkpoint.interva=1'
        ], [
            "default_hooks.checkpoint (CheckpointHook) has no argument "
            "'interva'; did you mean 'interval'"
        ]),
    ]
    for args, expected in cases:
        result = run([
            *args, '--work-dir',
            str(tmp_path / 'w'), '--cfg-options', *data_options(market_root)
        ],
                     check=False)
        assert result.returncode != 0, args
        for text in expected:
            assert text in result.stderr, result.stderr[-2000:]
        assert 'Epoch(train)' not in log_of(result)
        assert not osp.exists(tmp_path / 'w')


def test_test_tool_sets_the_loader_workers(one_epoch, market_root, tmp_path):
    work_dir, _ = one_epoch
    # The demo's test loader has two persistent workers; --workers 0 and
    # test_dataloader.num_workers=0 both turn persistent_workers off.
    options = data_options(market_root, loaders=False)
    results = [
        run([
            sys.executable, 'tools/test.py', CONFIG,
            str(work_dir / 'epoch_1.pth'), '--work-dir',
            str(tmp_path / d), *args, '--cfg-options', *options, *more
        ]) for d, args, more in (('w0', ['--workers', '0'], []),
                                 ('c0', [], ['test_dataloader.num_workers=0']))
    ]
    metrics = [metrics_in_log(log_of(r)) for r in results]
    assert metrics[0] == metrics[1]
    bad = run([
        sys.executable, 'tools/test.py', CONFIG,
        str(work_dir / 'epoch_1.pth'), '--workers', '-1'
    ],
              check=False)
    assert bad.returncode != 0 and '--workers' in bad.stderr


def launch_two_nodes(script, args, port):
    """``script`` as node 0 and node 1 of one process each, on this machine
    (what two machines would run, with MASTER_ADDR the first one's)."""
    procs = [
        subprocess.Popen(['bash', script, *args],
                         cwd=REPO_ROOT,
                         env=dict(
                             os.environ,
                             OMP_NUM_THREADS='1',
                             PYTHON=sys.executable,
                             NNODES='2',
                             NODE_RANK=str(rank),
                             MASTER_ADDR='127.0.0.1',
                             PORT=str(port)),
                         stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         text=True) for rank in (0, 1)
    ]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    for proc, log in zip(procs, logs):
        assert proc.returncode == 0, log[-3000:]
    return logs


def test_two_nodes_match_one_node_and_one_process(market_root, tmp_path):
    options = tiny_options(market_root, epochs=1)
    two_nodes = tmp_path / 'nodes'
    logs = launch_two_nodes(
        'tools/dist_train.sh',
        [CONFIG, '1', '--work-dir',
         str(two_nodes), '--cfg-options', *options],
        port=29531)
    assert 'Distributed training: True' in logs[0]
    assert 'GPU number: 2' in logs[0]  # mmengine's name for the world size
    one_node = tmp_path / 'node'
    run([
        'bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
        str(one_node), '--cfg-options', *options
    ],
        env=dict(PORT='29533'))
    # The same two ranks, whether on one node or two: the same weights.
    assert_same_weights(two_nodes / 'epoch_1.pth', one_node / 'epoch_1.pth')
    # Two-node evaluation (val batch 7 pads the last batch of a rank) gives
    # the metrics of one process.
    ckpt = str(two_nodes / 'epoch_1.pth')
    logs = launch_two_nodes(
        'tools/dist_test.sh', [
            CONFIG, ckpt, '1', '--work-dir',
            str(tmp_path / 'dt'), '--cfg-options', *options
        ],
        port=29535)
    single = run([
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
        str(tmp_path / 'st'), '--cfg-options', *options
    ])
    assert metrics_in_log(logs[0]) == pytest.approx(
        metrics_in_log(log_of(single)), abs=1e-6)
