"""Log the searched architecture each epoch; export it after the search."""
import os.path as osp
from typing import Dict, List

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmattn.models.search import (export_architecture, save_architecture,
                                  searched_network)
from mmattn.registry import HOOKS


def describe_architecture(arch: dict) -> List[str]:
    """Human-readable lines of an architecture dict."""
    lines = []
    for path, entry in arch['da'].items():
        stats = entry['stats']
        before = stats.get('num_windows_before')
        windows = ' '.join(f'[{s},{s + l})' for s, l in entry['windows'])
        lines.append(f'DA {path}: C={entry["in_channels"]} '
                     f'sum_length={stats["sum_length"]} '
                     f'M->T={before if before is not None else "-"}->'
                     f'{stats["num_windows_after"]} windows {windows}')
    if arch.get('hoga'):
        hoga = arch['hoga']
        ops = ', '.join(f'{op}({src}->{tgt})'
                        for op, src, tgt in hoga['genotype']['edges'])
        lines.append(f'HOGA genotype ({len(hoga["modules"])} modules): {ops}')
        for row, (op, src, tgt) in zip(
                hoga.get('edge_weights', []), hoga['genotype']['edges']):
            weights = ' '.join(f'{w:.3f}' for w in row)
            lines.append(f'  edge {src}->{tgt} softmax(alpha): {weights}')
    for path, entry in arch['fbnetv2'].items():
        widths = ' | '.join(' '.join(
            f'{b["out_channels"]}x{b["expand_ratio"]:g}' for b in stage)
                            for stage in entry['arch']['stages'])
        flops = entry.get('flops')
        lines.append(f'FBNetV2 {path}: (width x expansion) {widths}' + (
            f'; {flops / 1e6:.2f} MFLOPs' if flops is not None else ''))
    return lines


def architecture_scalars(arch: dict) -> Dict[str, float]:
    """Scalars worth plotting, one curve each over the epochs.

    - DA: ``arch/<path>/sum_length`` and ``arch/<path>/num_windows`` (T);
    - HOGA (searched): ``arch/hoga/edge<i>_<src>-<tgt>/<primitive>``, the
      softmax(alpha) weight of every primitive on every edge;
    - FBNetV2: ``arch/<path>/stage<s>.block<b>/out_channels`` and
      ``.../expand_ratio`` (the chosen width and expansion of every block)
      and ``arch/<path>/mflops`` of the derived subnet.
    """
    scalars = {}
    for path, entry in arch['da'].items():
        scalars[f'arch/{path}/sum_length'] = entry['stats']['sum_length']
        scalars[f'arch/{path}/num_windows'] = entry['stats'][
            'num_windows_after']
    hoga = arch.get('hoga') or {}
    for index, (row, (_, src, tgt)) in enumerate(
            zip(
                hoga.get('edge_weights', []),
                hoga.get('genotype', {}).get('edges', []))):
        for primitive, weight in zip(hoga['primitives'], row):
            scalars[f'arch/hoga/edge{index}_{src}-{tgt}/{primitive}'] = \
                float(weight)
    for path, entry in arch['fbnetv2'].items():
        for s, stage in enumerate(entry['arch']['stages']):
            for b, block in enumerate(stage):
                key = f'arch/{path}/stage{s}.block{b}'
                scalars[f'{key}/out_channels'] = block['out_channels']
                scalars[f'{key}/expand_ratio'] = block['expand_ratio']
        if entry.get('flops') is not None:
            scalars[f'arch/{path}/mflops'] = entry['flops'] / 1e6
    return scalars


@HOOKS.register_module()
class ArchitectureLoggerHook(Hook):
    """Log the current architecture after every ``interval`` epochs.

    To the log: DA windows with M -> T and the sum of window lengths, the
    HOGA genotype and softmax(alpha) per edge, the FBNetV2 widths and
    expansions with the subnet's FLOPs. To the visualiser: those numbers as
    scalars (:func:`architecture_scalars`: DA window lengths and T, HOGA
    softmax(alpha) per edge and primitive, FBNetV2 chosen widths,
    expansions and MFLOPs) and a picture of the windows of every DA module
    over its channels (seed 000 figure 4, drawn by
    ``mmattn.visualization.plot_channel_windows``).

    Args:
        interval (int): Epoch interval. Defaults to 1.
        draw_windows (bool): Add the window picture. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1, draw_windows: bool = True):
        if isinstance(interval,
                      bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError('ArchitectureLoggerHook: interval must be a '
                             f'positive int, got {interval!r}')
        self.interval = interval
        self.draw_windows = draw_windows

    def log_architecture(self, runner, step: int) -> dict:
        network = searched_network(runner.model)
        arch = export_architecture(network)
        for line in describe_architecture(arch):
            runner.logger.info(line)
        scalars = architecture_scalars(arch)
        if scalars:
            runner.visualizer.add_scalars(scalars, step=step)
        if self.draw_windows and arch['da'] and is_main_process():
            # Imported here: matplotlib is only needed when drawing.
            from mmattn.visualization import (collect_window_stats,
                                              figure_to_image,
                                              plot_channel_windows)
            figure = plot_channel_windows(collect_window_stats(network))
            runner.visualizer.add_image(
                'da_windows', figure_to_image(figure), step=step)
        return arch

    def before_train(self, runner) -> None:
        self.log_architecture(runner, step=runner.epoch)

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval):
            self.log_architecture(runner, step=runner.epoch + 1)


@HOOKS.register_module()
class ExportArchitectureHook(Hook):
    """Write the searched architecture JSON into the work dir at the end of
    the search (and every ``interval`` epochs, if set).

    Args:
        out_file (str): File name in ``work_dir`` (or an absolute path).
            Defaults to ``'architecture.json'``.
        interval (int): Also write ``epoch_{n}_<out_file>`` every
            ``interval`` epochs; 0 disables. Defaults to 0.
    """

    priority = 'LOW'

    def __init__(self, out_file: str = 'architecture.json', interval: int = 0):
        if not isinstance(out_file, str) or not out_file.endswith('.json'):
            raise ValueError('ExportArchitectureHook: out_file must be a '
                             f'.json file name, got {out_file!r}')
        self.out_file = out_file
        self.interval = interval

    def _path(self, runner, prefix: str = '') -> str:
        folder, name = osp.split(self.out_file)
        folder = folder if osp.isabs(self.out_file) else osp.join(
            runner.work_dir, folder)
        return osp.join(folder, prefix + name)

    def after_train_epoch(self, runner) -> None:
        if self.interval and self.every_n_epochs(runner, self.interval) \
                and is_main_process():
            save_architecture(
                searched_network(runner.model),
                self._path(runner, f'epoch_{runner.epoch + 1}_'))

    def after_train(self, runner) -> None:
        if is_main_process():
            path = self._path(runner)
            save_architecture(searched_network(runner.model), path)
            runner.logger.info(f'searched architecture written to {path}')
