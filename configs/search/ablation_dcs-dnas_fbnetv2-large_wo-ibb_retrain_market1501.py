# Seed 001 table V: DCS-DNAS (FBNetV2-Large) w/o IBB, the searched subnet
# retrained with CE + triplet only.
_base_ = ['./dcs-dnas_fbnetv2-large_retrain_market1501.py']
model = dict(
    head=dict(
        _delete_=True, type='ReIDHead', num_classes=751, in_channels=1984))
custom_hooks = []
