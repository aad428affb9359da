"""tools/test.py shows a progress bar over the test samples (issue 2,
item 7)."""
import re
import sys

import torch
from mmengine.config import Config, DictAction
from test_train_test import CONFIG, run, tiny_options

from mmattn.datasets import Market1501
from mmattn.registry import MODELS


def test_test_tool_draws_a_bar_over_every_test_sample(market_root, tmp_path):
    options = tiny_options(market_root)
    cfg = Config.fromfile(CONFIG)
    # The same overrides as the command line (num_classes among them).
    cfg.merge_from_dict({
        key: DictAction._parse_iterable(value)
        for key, value in (o.split('=', 1) for o in options)
    })
    # An untrained model's weights are enough to evaluate.
    checkpoint = str(tmp_path / 'untrained.pth')
    torch.save({
        'state_dict': MODELS.build(cfg.model).state_dict(),
        'meta': {}
    }, checkpoint)
    result = run([
        sys.executable, 'tools/test.py', CONFIG, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *options
    ])
    total = len(Market1501(market_root, split='test'))
    # Batches of 7: the bar advances 7, 14, ... and ends full on its own
    # line, before the metrics.
    out = result.stdout
    assert f' 7/{total},' in out and f' 14/{total},' in out, out[-3000:]
    final = re.search(rf'\[>+\] {total}/{total}, [\d.]+ task/s.*\n', out)
    assert final, out[-3000:]
    assert 'reid/mAP' in out[final.end():]
