"""Hooks behind the performance switches of tools/train.py."""
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmattn.registry import HOOKS


def to_channels_last(module: nn.Module, args, output):
    """Forward hook of a data preprocessor: put the 4-D ``inputs`` batch it
    returns into ``torch.channels_last`` (NHWC) memory format."""
    inputs = output.get('inputs') if isinstance(output, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        output['inputs'] = inputs.contiguous(memory_format=torch.channels_last)
    return output


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train (and test) in the channels_last memory format.

    Before the run, the parameters and buffers of the model are converted to
    ``torch.channels_last`` and the model's data preprocessor gets a forward
    hook that converts every input batch (B, C, H, W) it produces, so that
    convolutions run on NHWC tensors end to end (the fast layout of cuDNN's
    tensor-core kernels and of oneDNN on CPUs). The values are unchanged;
    only the strides differ.

    The conversion happens in ``before_run``, after mmengine has wrapped the
    model (DDP keeps working: its gradient buckets then copy from NHWC
    gradients) and before it compiles ``train_step`` (``compile=True``).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model
        model.to(memory_format=torch.channels_last)
        inner = model.module if is_model_wrapper(model) else model
        preprocessor = getattr(inner, 'data_preprocessor', None)
        if preprocessor is None:
            raise RuntimeError(
                'ChannelsLastHook: the model has no data_preprocessor, so '
                'its input batches cannot be converted')
        if not getattr(preprocessor, '_channels_last_hooked', False):
            preprocessor.register_forward_hook(to_channels_last)
            preprocessor._channels_last_hooked = True
        print_log(
            'channels_last: model and input batches use NHWC memory',
            logger='current')


@HOOKS.register_module()
class SyncBatchNormCheckHook(Hook):
    """Log how many BatchNorm layers of the wrapped model are SyncBatchNorm.

    With ``sync_bn='torch'`` mmengine converts the layers only in
    distributed runs, inside ``Runner.wrap_model``; single-process runs
    revert them, so there the log says 0.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        modules = list(runner.model.modules())
        synced = sum(isinstance(m, nn.SyncBatchNorm) for m in modules)
        norms = sum(
            isinstance(m, nn.modules.batchnorm._BatchNorm) for m in modules)
        print_log(
            f'--sync-bn: {synced} of {norms} BatchNorm layers are '
            'SyncBatchNorm',
            logger='current')
