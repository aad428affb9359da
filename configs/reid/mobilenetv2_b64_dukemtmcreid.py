_base_ = [
    '../_base_/models/reid_mobilenetv2.py',
    '../_base_/datasets/dukemtmcreid.py',
    '../_base_/schedules/reid_adam_120e.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=702))
