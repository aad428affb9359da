# The embedded demo with DCS's Information-Bottleneck bound (seed 001,
# METHODS.md section 2): demo_dcs_mobilenetv2_synthetic.py plus
# 0.1 * IBB in the loss, the IB term off for the first 30% of the epochs.
# bound='reconstructed' trains today's form (the authors' sibling code);
# 'separable' trains mean_i KL(phi_out(i) || Q[:, y_i]), which provably
# bounds I(X;W) - I(W;Y) (docs/user_guides/ib_bound.md). Both are logged.
# source='training' takes the epoch's IB statistics from the training
# forward passes; 'pass' runs a separate no-grad pass over the training set
# before every epoch.
_base_ = ['./demo_dcs_mobilenetv2_synthetic.py']
model = dict(
    head=dict(
        type='ReIDHeadWithIB',
        loss_ib=dict(
            type='IBBoundLoss', loss_weight=0.1, bound='reconstructed')))
custom_hooks = [
    dict(
        type='IBVariationalHook',
        warmup_ratio=0.3,
        input_size=(16, 8),
        source='training')
]
