"""bfloat16 autocast training without a loss scaler, on GPUs and CPUs."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmattn.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """Run the forward pass and the losses under ``torch.autocast`` in
    bfloat16 on the device of the model's parameters.

    mmengine's ``AmpOptimWrapper`` refuses to train without an accelerator
    and always scales the loss with a ``GradScaler``, whose ``step`` reads
    the inf/nan flag back to the host (one device sync per iteration).
    bfloat16 has float32's exponent range, so its gradients do not underflow
    and need no scaling: this wrapper is the plain :class:`OptimWrapper`
    plus the autocast context, on CUDA and on the CPU alike. Backward and the
    optimiser step run outside the context, in the parameters' float32.

    Args:
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`
            (``optimizer``, ``accumulative_counts``, ``clip_grad``).
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        # ``parameters()`` also works through DDP wrappers; a model without
        # parameters cannot be trained, so next() failing is a real error.
        device_type = next(model.parameters()).device.type
        if device_type == 'cuda' and not torch.cuda.is_bf16_supported():
            raise RuntimeError(
                'BF16OptimWrapper: this CUDA device does not support '
                'bfloat16; train with --amp fp16 instead')
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=torch.bfloat16):
            yield
