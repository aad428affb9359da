# The search behind seed 001's FBNetV2-Large rows (tables II, V, VI): plain
# FBNetV2 DNAS on the Large supernet, without DCS attention and without
# IBB; the derived subnet is retrained by the ablation_fbnetv2-large_*
# configs. Same protocol as dcs-dnas_fbnetv2-large_search_market1501.py.
_base_ = ['./dcs-dnas_fbnetv2-large_search_market1501.py']
model = dict(
    model=dict(
        backbone=dict(attentions=[]),
        head=dict(
            _delete_=True, type='ReIDHead', num_classes=751,
            in_channels=1984)))
custom_hooks = [
    dict(
        type='GumbelTemperatureHook',
        tau0=5.0,
        decay=0.045,
        attributes=['gumbel_tau']),
    dict(type='ArchitectureLoggerHook'),
    dict(type='ExportArchitectureHook', out_file='architecture.json'),
]
