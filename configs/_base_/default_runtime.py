default_scope = 'mmattn'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmattn's own defaults are default hooks, not custom ones: configs that
    # replace custom_hooks (the search configs do) keep them.
    # A bar over the samples of every validation / test epoch (rank 0).
    progress=dict(type='EvalProgressBarHook'),
    # Stop at the first NaN/inf loss, naming the iteration and loss terms.
    invalid_loss=dict(type='CheckInvalidLossHook'),
    # Seed every epoch from its index so that --resume repeats exactly.
    epoch_seed=dict(type='EpochSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

custom_hooks = []
