# Second stage of PCB-RPP (seed 002: "first 40 epochs for training PCB, and
# append another 60 epochs when employing RPP"): the 60 epochs continue the
# 100-epoch PCB timeline from epoch 40, i.e. base lr 0.01, x0.1 at epoch 40
# of this stage (80 overall). Sun et al. first train the part classifier
# alone and then fine-tune all layers; that split is not stated in seed 002,
# so here all layers train for the whole stage.
_base_ = ['./pcb_sgd_100e.py']
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[40], gamma=0.1)
]
train_cfg = dict(max_epochs=60)
