# The embedded local-descriptor demo: L2Net + CSA with the HardNet loss on
# the synthetic Brown sequences written by
#   python tools/misc/make_synthetic_patches.py data/synthetic_patches
# (trained on "liberty", FPR95 on "notredame" and "yosemite"); small enough
# for a 2-core CPU. Evaluate on the synthetic HPatches with
# tools/analysis_tools/eval_hpatches.py --root
#   data/synthetic_patches/hpatches-release
_base_ = ['./l2net-csa_hardnet_b1024_brown-liberty.py']

data_root = 'data/synthetic_patches/brown'
batch_size = 64

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    dataset=dict(data_root=data_root, num_pairs=20_000, chunk_size=batch_size))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(data_root=data_root, pairs_file='m50_2000_2000_0.txt'))
test_dataloader = val_dataloader

# A lower peak rate than HardNet's 10 for the small batches.
optim_wrapper = dict(optimizer=dict(lr=1.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=5, val_interval=1)
default_hooks = dict(logger=dict(interval=50))
